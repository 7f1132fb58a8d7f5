// Validates a result document (ours, or one read back from disk) against result-schema.json.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import schema from './result-schema.json' with { type: 'json' };
import type { WaitStats } from '../util/adaptive-wait.js';
import type {
  ConnectionEvent, ConnectionSummary, DirectionSplit, HostInfo, IoSummary, LatencyDetail, NamespaceInfo, NamespaceRow, Percentile, PerfResult,
  IoTimeoutSummary, ReactorSample, ResolvedConfig, TargetInfo, TimelinePoint, VerifyMismatchRecord, VerifySummary, WorkerSummary,
  WorkloadSource,
} from './result-types.js';

export { schema as resultSchema };

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

function join(base: string, prop: string): string {
  return `${base}/${prop}`;
}

/** "/config/pattern: …" — the JSON pointer of the offending value ("/" for the document itself). */
function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${join(e.instancePath, String(params['missingProperty']))}: required property is missing`;
    case 'additionalProperties':
      return `${join(e.instancePath, String(params['additionalProperty']))}: unknown property (not in schema)`;
    case 'enum':
      return `${at}: must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${at}: must be ${JSON.stringify(params['allowedValue'])}`;
    default:
      return `${at}: ${e.message ?? e.keyword}`;
  }
}

/** Returns one line per schema violation; an empty list means the document is valid. */
export function validateResult(doc: unknown): string[] {
  const validate = validator();
  if (validate(doc)) return [];
  const lines = (validate.errors ?? []).map(describe);
  return [...new Set(lines)];
}

// ---------------------------------------------------------------------------------------------
// The schema is written by hand; these lists tie it to result-types.ts. Each list must name the
// type's required and optional properties exactly — adding, removing or making a property optional
// in result-types.ts without updating the list is a compile error here (it names the key), and the
// unit test checks every list against the schema's `required` and `properties`.

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;
type Exactly<All, K extends readonly PropertyKey[]> =
  [Exclude<All, K[number]>] extends [never] ? unknown : { missingKeys: Exclude<All, K[number]> };

export interface ObjectShape {
  /** JSON pointer of the object schema in result-schema.json. */
  pointer: string;
  required: readonly string[];
  optional: readonly string[];
}

function shape<T>(pointer: string) {
  return <const R extends readonly RequiredKeys<T>[], const O extends readonly OptionalKeys<T>[]>(
    required: R & Exactly<RequiredKeys<T>, R>, optional: O & Exactly<OptionalKeys<T>, O>,
  ): ObjectShape => ({ pointer, required: required as readonly string[], optional: optional as readonly string[] });
}

type Launched = NonNullable<TargetInfo['launched']>;
type LocalInfo = NonNullable<TargetInfo['local']>;
type TargetCpu = NonNullable<PerfResult['targetCpu']>;
type Rate = NonNullable<PerfResult['rate']>;
type BsSplitItem = NonNullable<ResolvedConfig['bssplit']>[number];
type RangeConfig = NonNullable<ResolvedConfig['range']>;

export const SCHEMA_SHAPES: readonly ObjectShape[] = [
  shape<PerfResult>('#')(
    ['schemaVersion', 'tool', 'timestamp', 'status', 'commandLine', 'host', 'config', 'targets', 'durationSec',
      'total', 'workers', 'namespaces', 'timeline', 'latency'],
    ['error', 'targetCpu', 'rate', 'verify', 'workload', 'connection', 'ioTimeouts']),
  shape<IoTimeoutSummary>('#/properties/ioTimeouts')(
    ['timeoutMs', 'timedOut', 'abortsSent', 'aborted', 'notAborted', 'abortsFailed', 'qpairResets', 'resetFailedIos'], []),
  shape<ConnectionSummary>('#/properties/connection')(
    ['ctrlLossTmoSec', 'reconnectDelaySec', 'fastIoFailTmoSec', 'retriedIos', 'events'], []),
  shape<ConnectionEvent>('#/$defs/connectionEvent')(['kind', 't', 'at', 'controller', 'trid'],
    ['cntlid', 'outageSec', 'attempts', 'error']),
  shape<VerifySummary>('#/properties/verify')(['blocksWritten', 'blocksChecked', 'mismatches', 'details'], []),
  shape<VerifyMismatchRecord>('#/properties/verify/properties/details/items')(['nsid', 'lba', 'what'], []),
  shape<WorkloadSource>('#/properties/workload')(['file', 'section', 'sections'], []),
  shape<PerfResult['tool']>('#/properties/tool')(['name', 'version'], []),
  shape<TargetCpu>('#/properties/targetCpu')(['pid', 'cpuNs', 'cores', 'cpuUsPerIo'], []),
  shape<Rate>('#/properties/rate')(['requestedIops', 'achievedIops', 'sustained'], []),
  shape<IoSummary>('#/$defs/ioSummary')(['ios', 'bytes', 'iops', 'mibps', 'avgUs', 'minUs', 'maxUs', 'errors'], []),
  shape<DirectionSplit>('#/$defs/directionSplit')(['read', 'write', 'total'], []),
  shape<Percentile>('#/$defs/percentile')(['percentile', 'us'], []),
  shape<LatencyDetail>('#/$defs/latencyDetail')(
    ['histogramNs', 'readHistogramNs', 'writeHistogramNs', 'percentiles', 'readPercentiles', 'writePercentiles'], []),
  shape<HostInfo>('#/$defs/hostInfo')(['hostname', 'cpuModel', 'cores', 'kernel', 'node', 'platform'], []),
  shape<NamespaceInfo>('#/$defs/namespaceInfo')(['nsid', 'blockSize', 'sizeBlocks', 'sizeBytes'], []),
  shape<TargetInfo>('#/$defs/targetInfo')(
    ['trid', 'subnqn', 'cntlid', 'mn', 'sn', 'fr', 'version', 'maxTransferBytes', 'ioQueuesGranted', 'namespaces'],
    ['launched', 'local']),
  shape<LocalInfo>('#/$defs/targetInfo/properties/local')(['transport', 'device', 'kind', 'engine', 'kernelPath', 'iopoll', 'fixedBuffers'],
    ['pciAddress', 'controller']),
  shape<Launched>('#/$defs/targetInfo/properties/launched')(['pid', 'namespace', 'reactorCores', 'mode'], ['kind', 'note']),
  shape<ResolvedConfig>('#/$defs/resolvedConfig')(
    ['ioDepth', 'ioSize', 'pattern', 'rwmixread', 'timeSec', 'warmupSec', 'numQpairs', 'cores', 'latencyTracking',
      'headerDigest', 'dataDigest', 'hostnqn', 'seed', 'mode', 'rateIops', 'arrivals', 'transportIds'],
    ['bssplit', 'randomDistribution', 'range', 'verify', 'thinktimeUs', 'spinUs']),
  shape<BsSplitItem>('#/$defs/resolvedConfig/properties/bssplit/items')(['bytes', 'percent'], []),
  shape<RangeConfig>('#/$defs/resolvedConfig/properties/range')(['offset'], ['size']),
  shape<WorkerSummary>('#/$defs/workerSummary')(
    ['index', 'core', 'busyNs', 'idleNs', 'busyPct', 'cpuNs', 'cpuPct', 'cpuUsPerIo', 'io'], ['error', 'wait', 'timeouts']),
  shape<WaitStats>('#/$defs/waitStats')(
    ['busyNs', 'spinNs', 'sleepNs', 'passes', 'busyPasses', 'spinWindows', 'spinHits', 'sleeps', 'wakeups', 'timeouts'], []),
  shape<NamespaceRow>('#/$defs/namespaceRow')(['worker', 'core', 'targetIndex', 'nsid', 'label', 'io'], ['histogramNs']),
  shape<ReactorSample>('#/$defs/reactorSample')(['lcore', 'busy', 'idle', 'inInterrupt'],
    ['spin', 'sleep', 'sleeps', 'wakeups', 'connections', 'qpairs']),
  shape<TimelinePoint>('#/$defs/timelinePoint')(
    ['t', 'intervalSec', 'iops', 'readIops', 'writeIops', 'mibps', 'avgLatUs', 'busyPct', 'cpuPct'],
    ['targetCpuCores', 'targetReactors', 'errors', 'retries']),
];
