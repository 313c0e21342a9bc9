// Checks objects rendered by `dyn render -o json` against upstream schemas and against each other.
//
// usage: node check-objects.mjs RENDERED.json[:SOURCE.yaml] ...
// (one process for many files: loading the schemas costs more than checking a file)
//
// Schemas: kubernetes-models for core kinds, @kubernetes-models/istio for VirtualService, and the
// CRDs in deploy/crds (LeaderWorkerSet, DynamoComponentDeployment) through ajv, made strict:
// a field the schema does not define is an error, as `kubectl --validate=strict` would say.
// Cross-references: every route backend names a Service and port the output has; every claimName
// is a PVC the output or the source graph declares; no pod template is selected by two Services;
// every Service selects some pod template and its targetPort names a port of that template.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import Ajv from "ajv";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const targets = process.argv.slice(2);
if (!targets.length) {
  console.error("usage: node check-objects.mjs RENDERED.json[:SOURCE.yaml] ...");
  process.exit(2);
}

// ---- schemas -----------------------------------------------------------------------------

const coreModules = {
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount",
  "v1/PersistentVolumeClaim": "kubernetes-models/v1/PersistentVolumeClaim",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/Secret": "kubernetes-models/v1/Secret",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "rbac.authorization.k8s.io/v1/Role": "kubernetes-models/rbac.authorization.k8s.io/v1/Role",
  "rbac.authorization.k8s.io/v1/RoleBinding": "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding",
  "networking.k8s.io/v1/Ingress": "kubernetes-models/networking.k8s.io/v1/Ingress",
  "networking.istio.io/v1beta1/VirtualService": "@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService",
};

// Structural CRD schemas leave unknown fields to the API server's pruning; make them errors.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "description") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strict(s)])) : strict(v);
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.properties && !("additionalProperties" in out) && !schema["x-kubernetes-preserve-unknown-fields"])
    out.additionalProperties = false;
  return out;
}

function crdValidator(file, version) {
  const crd = yaml.load(fs.readFileSync(path.join(repo, "deploy/crds", file), "utf8"));
  const v = crd.spec.versions.find((x) => x.name === version);
  const schema = strict(v.schema.openAPIV3Schema);
  // metadata is validated by the API server, not the CRD schema
  schema.properties.metadata = { type: "object" };
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

const crds = {
  "leaderworkerset.x-k8s.io/v1/LeaderWorkerSet": crdValidator("leaderworkerset.x-k8s.io_leaderworkersets.yaml", "v1"),
  "nvidia.com/v1alpha1/DynamoComponentDeployment": crdValidator("nvidia.com_dynamocomponentdeployments.yaml", "v1alpha1"),
};
const models = {};
for (const [key, mod] of Object.entries(coreModules)) models[key] = (await import(mod))[key.split("/").pop()];

const selects = (sel, labels) => Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);

function checkFile(renderedPath, sourcePath) {
  const errors = [];
  const fail = (obj, msg) => errors.push(`${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}: ${msg}`);
  const list = JSON.parse(fs.readFileSync(renderedPath, "utf8"));
  if (list.apiVersion !== "v1" || list.kind !== "List" || !Array.isArray(list.items)) return ["not a v1 List"];

  let checked = 0;
  for (const obj of list.items) {
    const key = `${obj.apiVersion}/${obj.kind}`;
    if (models[key]) {
      try {
        new models[key](obj).validate();
        checked++;
      } catch (e) {
        fail(obj, `schema (${coreModules[key]}): ${e.message}`);
      }
    } else if (crds[key]) {
      if (crds[key](obj)) checked++;
      else
        for (const e of crds[key].errors)
          fail(obj, `schema (CRD): ${e.instancePath} ${e.message}${e.params?.additionalProperty ? ` "${e.params.additionalProperty}"` : ""}`);
    } else {
      fail(obj, `no schema known for ${key}`);
    }
    if (!obj.metadata?.name || obj.metadata.name.length > 253) fail(obj, "bad metadata.name");
  }

  // ---- cross references --------------------------------------------------------------------
  const services = list.items.filter((o) => o.kind === "Service");
  const pvcs = new Set(list.items.filter((o) => o.kind === "PersistentVolumeClaim").map((o) => o.metadata.name));
  if (sourcePath) {
    for (const doc of yaml.loadAll(fs.readFileSync(sourcePath, "utf8"))) {
      if (doc?.kind === "PersistentVolumeClaim") pvcs.add(doc.metadata.name);
      for (const p of doc?.spec?.pvcs ?? []) if (p?.name) pvcs.add(p.name);
    }
  }
  const templates = [];
  for (const o of list.items) {
    if (o.kind === "Deployment") templates.push({ owner: o, t: o.spec.template });
    if (o.kind === "LeaderWorkerSet") {
      templates.push({ owner: o, t: o.spec.leaderWorkerTemplate.leaderTemplate });
      templates.push({ owner: o, t: o.spec.leaderWorkerTemplate.workerTemplate });
    }
  }
  for (const { owner, t } of templates) {
    const labels = t.metadata?.labels ?? {};
    const selectedBy = services.filter(
      (s) => s.spec.clusterIP !== "None" && Object.keys(s.spec.selector ?? {}).length && selects(s.spec.selector, labels),
    );
    if (selectedBy.length > 1)
      fail(owner, `pods selected by several Services: ${selectedBy.map((s) => s.metadata.name).join(", ")}`);
    for (const v of t.spec.volumes ?? [])
      if (v.persistentVolumeClaim && !pvcs.has(v.persistentVolumeClaim.claimName))
        fail(owner, `claimName "${v.persistentVolumeClaim.claimName}" is not a PVC of the output or the graph`);
    if (owner.kind === "Deployment" && !selects(owner.spec.selector.matchLabels, labels))
      fail(owner, "selector does not match its own pod template");
  }
  for (const s of services) {
    const matching = templates.filter(({ t }) => selects(s.spec.selector, t.metadata?.labels));
    if (!matching.length) {
      fail(s, "selects no pod template of the output");
      continue;
    }
    for (const port of s.spec.ports ?? []) {
      if (typeof port.targetPort !== "string") continue;
      for (const { owner, t } of matching) {
        const names = (t.spec.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name));
        if (!names.includes(port.targetPort)) fail(s, `targetPort "${port.targetPort}" is not a port of ${owner.metadata.name}`);
      }
    }
  }
  const servicePort = (name, number) =>
    services.some((s) => s.metadata.name === name && (s.spec.ports ?? []).some((p) => p.port === number));
  for (const o of list.items) {
    if (o.kind === "Ingress")
      for (const r of o.spec.rules ?? [])
        for (const p of r.http?.paths ?? []) {
          const b = p.backend.service;
          if (!servicePort(b.name, b.port.number)) fail(o, `backend ${b.name}:${b.port.number} is not a Service port of the output`);
        }
    if (o.kind === "VirtualService")
      for (const h of o.spec.http ?? [])
        for (const r of h.route ?? []) {
          const d = r.destination;
          if (!servicePort(d.host, d.port?.number)) fail(o, `destination ${d.host}:${d.port?.number} is not a Service port of the output`);
        }
  }
  return { errors, checked };
}

let failed = 0, objects = 0;
for (const target of targets) {
  const [renderedPath, sourcePath] = target.split(":");
  const { errors, checked } = checkFile(renderedPath, sourcePath);
  objects += checked ?? 0;
  for (const e of errors ?? []) console.error(`${sourcePath ?? renderedPath}: ${e}`);
  if (errors?.length) failed++;
}
if (failed) {
  console.error(`${failed} of ${targets.length} file(s) failed`);
  process.exit(1);
}
console.log(`${targets.length} file(s), ${objects} objects valid, cross-references hold`);
