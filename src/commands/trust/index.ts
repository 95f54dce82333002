import type { Command } from '@oclif/core';
import TrustInit from './init.js';
import TrustImport from './import.js';
import TrustList from './list.js';
import TrustShow from './show.js';
import TrustExport from './export.js';
import TrustRetire from './retire.js';
import TrustHistory from './history.js';
import TrustRotationCreate from './rotation/create.js';
import TrustRotate from './rotate.js';
import TrustKeysAdd from './keys/add.js';
import TrustKeysList from './keys/list.js';
import TrustMigrate from './migrate.js';
import TrustCheckpoints from './checkpoints.js';
import TrustWitnessAdd from './witness/add.js';
import TrustWitnessList from './witness/list.js';
import TrustWitnessPolicy from './witness/policy.js';

export const commands: Record<string, Command.Class> = {
  'trust:init': TrustInit,
  'trust:import': TrustImport,
  'trust:list': TrustList,
  'trust:show': TrustShow,
  'trust:export': TrustExport,
  'trust:retire': TrustRetire,
  'trust:history': TrustHistory,
  'trust:rotation:create': TrustRotationCreate,
  'trust:rotate': TrustRotate,
  'trust:keys:add': TrustKeysAdd,
  'trust:keys:list': TrustKeysList,
  'trust:migrate': TrustMigrate,
  'trust:checkpoints': TrustCheckpoints,
  'trust:witness:add': TrustWitnessAdd,
  'trust:witness:list': TrustWitnessList,
  'trust:witness:policy': TrustWitnessPolicy,
};
