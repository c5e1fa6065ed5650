/**
 * How Mimir names an OTLP metric when suffixes are on (Prometheus' OTLP translation): the name's
 * non-alphanumeric runs become "_", the unit is appended as a word ("s" -> seconds, "By" -> bytes, "{...}"
 * annotations dropped, "a/b" -> a_per_b, "1" -> ratio for gauges), and monotonic sums get "_total".
 */
const UNIT_WORDS: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};
const PER_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

export type PromType = 'counter' | 'gauge' | 'histogram';

export function promType(type: 'gauge' | 'sum' | 'histogram', isMonotonic: boolean): PromType {
  if (type === 'histogram') return 'histogram';
  return type === 'sum' && isMonotonic ? 'counter' : 'gauge';
}

function unitWords(unit: string, type: PromType): string[] {
  const clean = unit.replace(/\{[^}]*\}/g, '').trim();
  if (!clean) return [];
  if (clean === '1') return type === 'gauge' ? ['ratio'] : [];
  const [main, per] = clean.split('/', 2);
  const words = main ? [UNIT_WORDS[main] ?? main] : [];
  if (per) words.push('per', PER_WORDS[per] ?? UNIT_WORDS[per] ?? per);
  return words.flatMap((w) => w.split(/[^A-Za-z0-9]+/)).filter(Boolean);
}

export function prometheusName(otelName: string, unit: string, type: PromType): string {
  const tokens = otelName.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const words = unitWords(unit, type);
  if (words.length && !tokens.join('_').endsWith(words.join('_'))) tokens.push(...words);
  if (type === 'counter' && tokens.at(-1) !== 'total') tokens.push('total');
  return tokens.join('_');
}

/** An OTel attribute key as a Prometheus label. */
export function prometheusLabel(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_');
}
