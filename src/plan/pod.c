/* The pod around the main container (spec/operator.md §6.1 steps 9-14, §5.2-5.3), with our
 * Decisions: every container that talks to the bus gets the same addresses and credentials, and
 * sidecars see the graph's PVCs read-only. */
#include <string.h>

#include "base/json_util.h"
#include "plan/plan.h"

json_t *dyn_plan_find_main(json_t *pod_spec)
{
    return dyn_json_find_named(json_object_get(pod_spec, "containers"), "main");
}

/* Step 9: PVC volumes and mounts, then shared memory. */
static void add_storage(const dyn_plan_component *c, const dyn_service *s, json_t *main, json_t *volumes)
{
    json_t *mounts = dyn_json_array_at(main, "volumeMounts");
    bool vllm = c->framework && strcmp(c->framework, "vllm") == 0;
    bool cache_root_set = false;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const dyn_volume_mount *m = &s->mounts[i];
        if (!m->name)
            continue;
        const char *path = m->mount_point && m->mount_point[0] ? m->mount_point : NULL;
        if (!path && m->compilation_cache && vllm)
            path = DYN_VLLM_CACHE_DEFAULT;
        if (!path)
            continue; /* validation rejects this; never emit a mount without a path */
        json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", m->name, "persistentVolumeClaim",
                                                 "claimName", m->name));
        json_array_append_new(mounts, json_pack("{s:s, s:s}", "name", m->name, "mountPath", path));
        if (m->compilation_cache && vllm && m->mount_point && m->mount_point[0] && !cache_root_set) {
            json_t *env = dyn_json_array_at(main, "env");
            json_t *one = json_pack("[o]", dyn_env_var("VLLM_CACHE_ROOT", m->mount_point));
            dyn_env_merge(env, one, true);
            json_decref(one);
            dyn_json_sort_by_name(env);
            cache_root_set = true;
        }
    }
    if (!s->shm_disabled) {
        const char *size = s->shm_size ? s->shm_size : DYN_SHM_DEFAULT_SIZE;
        json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:s}}", "name", "shared-memory", "emptyDir",
                                                 "medium", "Memory", "sizeLimit", size));
        json_array_append_new(mounts, json_pack("{s:s, s:s}", "name", "shared-memory", "mountPath", "/dev/shm"));
    }
    if (json_array_size(mounts) == 0)
        json_object_del(main, "volumeMounts");
}

/* The env entries a sidecar needs to reach the bus: addresses and NATS_/ETCD_ credentials. */
static bool bus_env(const char *name)
{
    return strncmp(name, "NATS_", 5) == 0 || strncmp(name, "ETCD_", 5) == 0 || strcmp(name, "DYN_NAMESPACE") == 0;
}

static void wire_sidecar(json_t *sidecar, const json_t *main)
{
    json_t *env = dyn_json_array_at(sidecar, "env");
    json_t *wanted = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(main, "env"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && bus_env(name))
            json_array_append(wanted, v);
    }
    dyn_env_merge(env, wanted, true); /* the sidecar's own values win */
    json_decref(wanted);
    dyn_json_sort_by_name(env);
    if (json_array_size(env) == 0)
        json_object_del(sidecar, "env");

    json_array_foreach(json_object_get(main, "envFrom"), i, v) {
        json_t *from = dyn_json_array_at(sidecar, "envFrom");
        if (!json_equal(json_array_get(from, 0), v))
            json_array_append(from, v);
    }

    /* the graph's claims, read-only, unless the sidecar mounts that volume itself */
    json_array_foreach(json_object_get(main, "volumeMounts"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!name || strcmp(name, "shared-memory") == 0)
            continue;
        json_t *mounts = dyn_json_array_at(sidecar, "volumeMounts");
        if (dyn_json_find_named(mounts, name))
            continue;
        json_t *ro = json_deep_copy(v);
        json_object_set_new(ro, "readOnly", json_true());
        json_array_append_new(mounts, ro);
    }
}

json_t *dyn_plan_pod_spec(const dyn_plan *plan, const dyn_plan_component *c, const dyn_service *s, json_t *main)
{
    json_t *volumes = json_array();
    add_storage(c, s, main, volumes);
    main = dyn_plan_order_container(main);

    /* step 11: base pod, user pod spec over it */
    json_t *pod = json_pack("{s:i, s:s}", "terminationGracePeriodSeconds", DYN_TERMINATION_GRACE_SECONDS,
                            "restartPolicy", "Always");
    if (dyn_service_is_planner(s))
        dyn_json_set_str(pod, "serviceAccountName", DYN_PLANNER_SA);
    json_t *user_volumes = NULL, *sidecars = NULL;
    if (s->pod_spec) {
        json_t *user = json_deep_copy(s->pod_spec);
        user_volumes = json_incref(json_object_get(user, "volumes"));
        sidecars = json_incref(json_object_get(user, "containers"));
        json_object_del(user, "volumes");
        json_object_del(user, "containers");
        dyn_json_merge_over(pod, user);
        json_decref(user);
    }
    /* step 12 */
    if (!json_object_get(pod, "securityContext"))
        json_object_set_new(pod, "securityContext", json_pack("{s:i}", "fsGroup", DYN_POD_FS_GROUP));
    /* step 13 */
    const char *sa = json_string_value(json_object_get(pod, "serviceAccountName"));
    if (plan->discovery_rbac && (!sa || !sa[0]))
        dyn_json_set_str(pod, "serviceAccountName", plan->discovery_sa);

    /* step 14: sidecars first, main last; user volumes first, ours after */
    json_t *containers = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(sidecars, i, v) {
        json_t *sc = json_deep_copy(v);
        wire_sidecar(sc, main);
        json_array_append_new(containers, sc);
    }
    json_array_append_new(containers, main);
    json_object_set_new(pod, "containers", containers);
    json_t *all_volumes = json_is_array(user_volumes) ? json_deep_copy(user_volumes) : json_array();
    json_array_extend(all_volumes, volumes);
    json_decref(volumes);
    if (json_array_size(all_volumes))
        json_object_set_new(pod, "volumes", all_volumes);
    else
        json_decref(all_volumes);
    json_decref(user_volumes);
    json_decref(sidecars);
    return pod;
}
