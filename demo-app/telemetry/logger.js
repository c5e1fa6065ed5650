/**
 * A tiny logger: every call emits an OTel log record (the SDK attaches trace_id/span_id of the active span)
 * and prints one logfmt line to stdout with the same ids, for container log collection.
 */
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { trace, isSpanContextValid } from '@opentelemetry/api';

const SEVERITY = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

function logfmtValue(value) {
  const s = value instanceof Error ? value.message : String(value);
  return /^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

function toAttribute(value) {
  if (value instanceof Error) return value.message;
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
}

/** @param {string} service the service.name, repeated on the stdout line so mixed output stays readable */
export function createLogger(service, { write = (line) => process.stdout.write(line) } = {}) {
  const otel = logs.getLogger('mop-demo');
  const emit = (level, msg, attrs = {}) => {
    const attributes = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attributes[k] = toAttribute(v);
    otel.emit({ severityNumber: SEVERITY[level], severityText: level.toUpperCase(), body: msg, attributes });

    const ctx = trace.getActiveSpan()?.spanContext();
    const ids = ctx && isSpanContextValid(ctx) ? ` trace_id=${ctx.traceId} span_id=${ctx.spanId}` : '';
    const extra = Object.entries(attributes)
      .map(([k, v]) => ` ${k}=${logfmtValue(v)}`)
      .join('');
    write(`ts=${new Date().toISOString()} level=${level} service=${service}${ids} msg=${logfmtValue(msg)}${extra}\n`);
  };
  return {
    debug: (msg, attrs) => emit('debug', msg, attrs),
    info: (msg, attrs) => emit('info', msg, attrs),
    warn: (msg, attrs) => emit('warn', msg, attrs),
    error: (msg, attrs) => emit('error', msg, attrs),
  };
}
