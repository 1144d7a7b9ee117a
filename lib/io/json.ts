// JSON as data, never as behaviour: the manifest of a saved model is parsed here and checked before
// anything reads it. Keys that could reach an object's prototype machinery (`__proto__`,
// `constructor`, `prototype`) are refused outright, nesting depth is bounded, and every field is read
// through `ConfigReader`, which checks its type and refuses keys it does not know.

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** A malformed file, config or model: always a RangeError with the place and the problem. */
export class FormatError extends RangeError {
  override name = 'FormatError';
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const MAX_JSON_DEPTH = 256;

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks that `value` is plain JSON data (finite numbers, strings, booleans, null, arrays, objects
 * without forbidden keys) no deeper than MAX_JSON_DEPTH. `where` prefixes the error message.
 */
export function checkJsonTree(value: unknown, where: string, path = '', depth = 0): void {
  const at = path === '' ? '' : ` at ${path}`;
  if (depth > MAX_JSON_DEPTH) throw new FormatError(`${where}: nesting deeper than ${MAX_JSON_DEPTH} levels${at}`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FormatError(`${where}: non-finite number ${value}${at}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJsonTree(v, where, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) {
      const keyPath = path === '' ? key : `${path}.${key}`;
      if (FORBIDDEN_KEYS.has(key)) throw new FormatError(`${where}: forbidden key '${key}' at ${keyPath}`);
      checkJsonTree((value as Record<string, unknown>)[key], where, keyPath, depth + 1);
    }
    return;
  }
  throw new FormatError(`${where}: ${describe(value)} is not JSON data${at}`);
}

/** JSON.parse plus checkJsonTree; `source` names the file in errors. */
export function parseJson(text: string, source: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  checkJsonTree(value, source);
  return value as Json;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * Typed, strict access to one JSON object. Every read names the field in its error; `done()` throws
 * if the object holds a key nobody read, so a config with a typo or an injected field is refused.
 */
export class ConfigReader {
  private readonly seen = new Set<string>();

  constructor(readonly obj: JsonObject, readonly where: string) {}

  fail(problem: string): never {
    throw new FormatError(`${this.where}: ${problem}`);
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key);
  }

  /** The raw value (marks the key as read); undefined when absent. */
  raw(key: string): Json | undefined {
    this.seen.add(key);
    return this.has(key) ? this.obj[key] : undefined;
  }

  private required(key: string): Json {
    const v = this.raw(key);
    if (v === undefined) this.fail(`missing field '${key}'`);
    return v;
  }

  number(key: string): number {
    const v = this.required(key);
    if (typeof v !== 'number') this.fail(`'${key}' must be a number, got ${describe(v)}`);
    return v;
  }

  int(key: string, min = -Infinity): number {
    const v = this.required(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(`'${key}' must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${describe(v)}`);
    }
    return v;
  }

  bool(key: string): boolean {
    const v = this.required(key);
    if (typeof v !== 'boolean') this.fail(`'${key}' must be a boolean, got ${describe(v)}`);
    return v;
  }

  string(key: string): string {
    const v = this.required(key);
    if (typeof v !== 'string') this.fail(`'${key}' must be a string, got ${describe(v)}`);
    return v;
  }

  object(key: string): JsonObject {
    const v = this.required(key);
    if (!isJsonObject(v)) this.fail(`'${key}' must be an object, got ${describe(v)}`);
    return v;
  }

  array(key: string): Json[] {
    const v = this.required(key);
    if (!Array.isArray(v)) this.fail(`'${key}' must be an array, got ${describe(v)}`);
    return v;
  }

  strings(key: string): string[] {
    const v = this.array(key);
    v.forEach((s, i) => {
      if (typeof s !== 'string') this.fail(`'${key}[${i}]' must be a string, got ${describe(s)}`);
    });
    return v as string[];
  }

  ints(key: string, min = -Infinity): number[] {
    const v = this.array(key);
    v.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < min) {
        this.fail(`'${key}[${i}]' must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${describe(s)}`);
      }
    });
    return v as number[];
  }

  /** A positive integer or a pair of them (kernel sizes, strides, dilations). */
  intOrPair(key: string): number | [number, number] {
    const v = this.required(key);
    const ok = (d: Json) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1;
    if (ok(v)) return v as number;
    if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number];
    return this.fail(`'${key}' must be an integer >= 1 or a pair of them, got ${JSON.stringify(v)}`);
  }

  /** A nested object read by its own reader (`where` extended with the key). */
  child(key: string): ConfigReader {
    return new ConfigReader(this.object(key), `${this.where}.${key}`);
  }

  /** Throws when the object has keys that were never read. */
  done(): void {
    const extra = Object.keys(this.obj).filter((k) => !this.seen.has(k));
    if (extra.length > 0) this.fail(`unexpected field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
  }
}
