/**
 * A tiny, strict parser of the Prometheus text exposition format 0.0.4, for tests: every line is
 * a comment (# HELP / # TYPE), blank, or a sample `name{label="value",...} value [timestamp]`.
 * Throws on anything else, on a sample whose family has no TYPE declared before it, on a TYPE
 * declared twice, on a duplicate series and on a bad label escape.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
export interface Exposition {
  readonly types: Map<string, string>;
  readonly help: Map<string, string>;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'summary', 'histogram', 'untyped']);

export function parsePrometheus(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const series = new Set<string>();
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`malformed ${where}`);
        return;
      }
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3]!)) throw new Error(`unknown type ${where}`);
        if (types.has(m[2]!)) throw new Error(`TYPE declared twice ${where}`);
        types.set(m[2]!, m[3]!);
      } else {
        help.set(m[2]!, m[3]!);
      }
      return;
    }
    const m = new RegExp(`^(${NAME})(\\{(.*)\\})? ([^ ]+)( -?\\d+)?$`).exec(line);
    if (!m) throw new Error(`malformed sample ${where}`);
    const name = m[1]!;
    const labels = m[3] === undefined ? {} : parseLabels(m[3], where);
    const raw = m[4]!;
    // Prometheus reads values with Go's ParseFloat, which takes NaN in any case (prom-client writes 'Nan').
    const nan = /^nan$/i.test(raw);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : nan ? NaN : Number(raw);
    if (Number.isNaN(value) && !nan) throw new Error(`bad value ${where}`);
    const family = [name, name.replace(/_(sum|count|bucket)$/, '')].find((n) => types.has(n));
    if (!family) throw new Error(`sample without a preceding TYPE ${where}`);
    if (family !== name && !['summary', 'histogram'].includes(types.get(family)!))
      throw new Error(`suffix on a ${types.get(family)} ${where}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`duplicate series ${where}`);
    series.add(key);
    samples.push({ name, labels, value });
  });
  return { types, help, samples };
}

function parseLabels(body: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels ${where}`);
    const name = body.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}" ${where}`);
    if (body[eq + 1] !== '"') throw new Error(`label value not quoted ${where}`);
    let j = eq + 2;
    let value = '';
    for (; ; j++) {
      if (j >= body.length) throw new Error(`unterminated label value ${where}`);
      const c = body[j];
      if (c === '\\') {
        const n = body[++j];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape ${where}`);
      } else if (c === '"') break;
      else value += c;
    }
    if (name in out) throw new Error(`duplicate label ${where}`);
    out[name] = value;
    i = j + 1;
    if (i < body.length) {
      if (body[i] !== ',') throw new Error(`expected , between labels ${where}`);
      i += 1;
    }
  }
  return out;
}
