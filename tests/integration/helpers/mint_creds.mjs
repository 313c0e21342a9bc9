// Mints NATS test credentials with @nats-io/jwt and @nats-io/nkeys (the pinned npm tools):
// an operator, an account with JetStream enabled, a user .creds file, and a plain NKey user.
// Usage: node mint_creds.mjs <out-dir>; writes operator.jwt, account.pub, account.jwt, sys.pub, sys.jwt,
// user.creds, nkey.seed, nkey.pub.
import { createRequire } from "module";
import { writeFileSync } from "fs";
const require = createRequire(process.env.DYN_SOURCE_DIR + "/tests/tools/package.json");
const nkeys = require("@nats-io/nkeys");
const jwt = require("@nats-io/jwt");

const out = process.argv[2];
const okp = nkeys.createOperator();
const akp = nkeys.createAccount();
const skp = nkeys.createAccount();
const ukp = nkeys.createUser();
const nkp = nkeys.createUser();
const dec = (b) => new TextDecoder().decode(b);

const ojwt = await jwt.encodeOperator("dyn-test-op", okp);
const ajwt = await jwt.encodeAccount("dyn-test-acct", akp, {
  limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true },
}, { signer: okp });
const sjwt = await jwt.encodeAccount("SYS", skp, {}, { signer: okp });
const ujwt = await jwt.encodeUser("dyn-test-user", ukp, akp);
writeFileSync(`${out}/operator.jwt`, ojwt);
writeFileSync(`${out}/account.pub`, akp.getPublicKey());
writeFileSync(`${out}/account.jwt`, ajwt);
writeFileSync(`${out}/sys.pub`, skp.getPublicKey());
writeFileSync(`${out}/sys.jwt`, sjwt);
writeFileSync(`${out}/user.creds`, jwt.fmtCreds(ujwt, ukp));
writeFileSync(`${out}/nkey.seed`, dec(nkp.getSeed()));
writeFileSync(`${out}/nkey.pub`, nkp.getPublicKey());
