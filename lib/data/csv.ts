// A small CSV reader for numeric tables: RFC 4180 quoting, a header row, a chosen delimiter. Every row
// must have the header's column count and every cell must be a number (or, for label columns the
// caller names, any string mapped to a class index). Errors name the line and the column.

import { readFileSync } from 'node:fs';

export interface CsvOptions {
  /** First row holds column names (default true). */
  header?: boolean;
  delimiter?: string;
  /** Columns whose values are category strings; each distinct string becomes 0, 1, 2... in order of appearance. */
  categorical?: string[];
}

export interface CsvTable {
  columns: string[];
  /** Row-major [rows, columns]. */
  data: Float32Array;
  rows: number;
  /** For categorical columns: the strings, indexed by the number stored in data. */
  categories: Record<string, string[]>;
}

function splitRecords(text: string, delimiter: string, source: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === delimiter) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      line++;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new RangeError(`readCsv: ${source}: unterminated quoted field (line ${line})`);
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

export function parseCsv(text: string, options: CsvOptions = {}, source = 'text'): CsvTable {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new RangeError(`readCsv: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const records = splitRecords(text, delimiter, source);
  const hasHeader = options.header ?? true;
  if (records.length === 0) throw new RangeError(`readCsv: ${source} is empty`);
  const columns = hasHeader ? records[0].map((c) => c.trim()) : records[0].map((_, i) => `c${i}`);
  const body = hasHeader ? records.slice(1) : records;
  const categorical = new Set(options.categorical ?? []);
  for (const c of categorical) {
    if (!columns.includes(c)) throw new RangeError(`readCsv: categorical column '${c}' is not in ${source} (columns: ${columns.join(', ')})`);
  }
  const categories: Record<string, string[]> = {};
  for (const c of categorical) categories[c] = [];
  const data = new Float32Array(body.length * columns.length);
  body.forEach((record, r) => {
    const line = r + (hasHeader ? 2 : 1);
    if (record.length !== columns.length) {
      throw new RangeError(`readCsv: ${source} line ${line} has ${record.length} fields, expected ${columns.length}`);
    }
    record.forEach((cell, c) => {
      const name = columns[c];
      const value = cell.trim();
      if (categorical.has(name)) {
        let index = categories[name].indexOf(value);
        if (index < 0) index = categories[name].push(value) - 1;
        data[r * columns.length + c] = index;
        return;
      }
      const num = value === '' ? NaN : Number(value);
      if (!Number.isFinite(num)) {
        throw new RangeError(`readCsv: ${source} line ${line}, column '${name}': ${JSON.stringify(cell)} is not a number`);
      }
      data[r * columns.length + c] = num;
    });
  });
  return { columns, data, rows: body.length, categories };
}

export function readCsv(path: string, options: CsvOptions = {}): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`readCsv: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseCsv(text, options, path);
}
