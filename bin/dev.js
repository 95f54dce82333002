#!/usr/bin/env node
// Development entry: rebuilds nothing, runs the compiled CLI with development settings.
import { execute } from '@oclif/core';

await execute({ development: true, dir: import.meta.url });
