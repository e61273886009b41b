/** SQL text helpers for the DuckDB engine: quoting and the platform's type mapping. */
import type { ColumnType } from './column-types.js';

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A quoted SQL string literal. */
export const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** A list literal of strings. */
export const literalList = (values: readonly string[]): string => `[${values.map(literal).join(', ')}]`;

/** DuckDB type of each column type. Timestamps are instants (UTC). */
export const DUCKDB_TYPE: Readonly<Record<ColumnType, string>> = {
  integer: 'BIGINT',
  float: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  string: 'VARCHAR',
};

/** The column type a DuckDB type is curated as (from `DESCRIBE`); nested and binary types become text. */
export function columnTypeOf(duckdbType: string): ColumnType {
  const t = duckdbType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT|UHUGEINT)$/.test(t)) return 'integer';
  if (/^(FLOAT|DOUBLE|REAL)$/.test(t) || t.startsWith('DECIMAL')) return 'float';
  if (t === 'BOOLEAN') return 'boolean';
  if (t.startsWith('TIMESTAMP') || t === 'DATE') return 'timestamp';
  return 'string';
}

/** Whether a DuckDB type is nested (STRUCT, MAP, UNION, a list or an array): curated as its JSON text. */
export const isNestedType = (duckdbType: string): boolean => /^(STRUCT|MAP|UNION)\(/i.test(duckdbType) || /\[\d*\]$/.test(duckdbType);

/** Whether every value of a DuckDB type casts to a column type without failing or losing its value. */
export function castsLosslessly(duckdbType: string, target: ColumnType): boolean {
  const t = duckdbType.toUpperCase();
  const smallIntegers = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$/;
  switch (target) {
    case 'string':
      return true;
    case 'integer':
      return smallIntegers.test(t);
    case 'float':
      return smallIntegers.test(t) || /^(FLOAT|DOUBLE|REAL)$/.test(t) || t.startsWith('DECIMAL');
    case 'boolean':
      return t === 'BOOLEAN';
    case 'timestamp':
      return t.startsWith('TIMESTAMP') || t === 'DATE';
  }
}
