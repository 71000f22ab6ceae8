#!/usr/bin/env node
// The one command line: `cairn web | worker | all | migrate | admin …`. TypeScript sources run through tsx.
import { register } from "tsx/esm/api";

register();
await import("../server/index.ts");
