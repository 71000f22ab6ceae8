// The four stage cells of a pipeline run, and how a run's status follows from them.
import { stageNames, type StageCell, type StageName, type Stages } from "../../../db/schema/control.ts";

export function freshStages(): Stages {
  const cell = (): StageCell => ({ status: "pending", items: 0, started_at: null, ended_at: null, errors: [] });
  return Object.fromEntries(stageNames.map((s) => [s, cell()])) as Record<StageName, StageCell>;
}
