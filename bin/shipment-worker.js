// CommonJS (bin/package.json). A shipment worker thread of the CLI (src/shipment/pool.ts,
// verifierWorkerEntry): the verifier from the same bundle and V8 code cache as the main
// thread (./verify-bundle.js), not the ~60 ES modules of dist/src, which took a thread ~30 ms
// longer to start (measured: 30 ms against 58–68 ms to a loaded verifier, 23 ms empty).
'use strict';
require('./verify-bundle.js').loadVerifyBundle().exports.runShipmentWorker();
