import { Link } from "react-router";
import { useGpus } from "../api/queries";
import type { Gpu, GpusResponse, RunRecord, Task } from "../api/types";
import { formatMemory } from "../lib/format";
import { ErrorNotice } from "./ErrorNotice";

const SOURCES: Record<GpusResponse["source"], string> = {
  nvml: "found by NVML",
  declared: "declared in VTM_GPUS",
};

function percent(part: number | null, whole: number | null): number | null {
  if (part === null || whole === null || whole <= 0) return null;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}

/** A thin bar under a figure; the figure itself is the text beside it. */
function Meter({ value }: { value: number | null }) {
  if (value === null) return null;
  return (
    <span className="gpu-meter" aria-hidden="true">
      <span style={{ width: `${value}%` }} />
    </span>
  );
}

function Holder({ gpu, run, task }: { gpu: Gpu; run: RunRecord | undefined; task: Task | undefined }) {
  if (gpu.runId) {
    return (
      <>
        {run && <span className="gpu-task">{task?.title ?? run.taskId} </span>}
        <Link to={`/runs/${gpu.runId}`} className="mono" data-testid="gpu-run-link">
          {gpu.runId}
        </Link>
      </>
    );
  }
  return <>{gpu.outsideUse ? "not handed out" : "free"}</>;
}

interface CardProps {
  gpu: Gpu;
  run: RunRecord | undefined;
  task: Task | undefined;
}

function GpuCard({ gpu, run, task }: CardProps) {
  const state = gpu.runId ? "held" : gpu.outsideUse ? "outside" : "free";
  // Without NVML the server names a declared GPU "GPU <index>": said once, not twice.
  const model = gpu.name && gpu.name !== `GPU ${gpu.index}` ? gpu.name : null;
  return (
    <li className={`gpu-card gpu-${state}`} data-testid={`gpu-${gpu.index}`} data-state={state}>
      <div className="gpu-head">
        <strong>GPU {gpu.index}</strong>
        {model && (
          <span className="muted" data-testid="gpu-name">
            {model}
          </span>
        )}
        {gpu.outsideUse && (
          <span className="badge badge-outside" data-testid="gpu-outside-use">
            in use outside VTM
          </span>
        )}
      </div>
      <dl className="facts">
        <div>
          <dt>Memory</dt>
          <dd data-testid="gpu-memory">{formatMemory(gpu.memoryUsed, gpu.memoryTotal)}</dd>
          <Meter value={percent(gpu.memoryUsed, gpu.memoryTotal)} />
        </div>
        <div>
          <dt>Utilisation</dt>
          <dd data-testid="gpu-utilization">{gpu.utilization === null ? "—" : `${gpu.utilization}%`}</dd>
          <Meter value={percent(gpu.utilization, 100)} />
        </div>
        <div className="gpu-holder">
          <dt>Run</dt>
          <dd data-testid="gpu-holder">
            <Holder gpu={gpu} run={run} task={task} />
          </dd>
        </div>
      </dl>
    </li>
  );
}

interface Props {
  /** The runs on the page, to name the task of a GPU's run. */
  runs: readonly RunRecord[];
  tasks: ReadonlyMap<string, Task>;
}

/** Every GPU the server may hand out: its memory and load, and the run holding it. */
export function GpuPanel({ runs, tasks }: Props) {
  const gpus = useGpus();
  const byId = new Map(runs.map((run) => [run.id, run]));
  const data = gpus.data;
  return (
    <section aria-labelledby="gpus-heading" data-testid="gpu-panel">
      <div className="section-head">
        <h2 id="gpus-heading">GPUs</h2>
        {data && data.gpus.length > 0 && (
          <span className="muted small" data-testid="gpu-source">
            {SOURCES[data.source] ?? data.source}
          </span>
        )}
      </div>
      {gpus.isError && !data && <ErrorNotice error={gpus.error} what="The GPUs could not be read." />}
      {data?.gpus.length === 0 && (
        <p className="muted" data-testid="no-gpus">
          No GPUs (VTM_GPUS=none or no NVML).
        </p>
      )}
      {data && data.gpus.length > 0 && (
        <ul className="gpu-grid" data-testid="gpus">
          {data.gpus.map((gpu) => {
            const run = gpu.runId ? byId.get(gpu.runId) : undefined;
            return <GpuCard key={gpu.index} gpu={gpu} run={run} task={run && tasks.get(run.taskId)} />;
          })}
        </ul>
      )}
    </section>
  );
}
