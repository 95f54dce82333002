/** A shipment worker thread over the modules of dist/src (the library's pool): ./worker-main.ts. */
import { runShipmentWorker } from './worker-main.js';

runShipmentWorker();
