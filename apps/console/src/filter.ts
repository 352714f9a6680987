// Checks a metadata filter before it is sent (the same rules the server applies, DESIGN §4): operators
// $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or; a bare value means $eq; range operators take numbers.
const COMPARE = new Set(['$eq', '$ne']);
const RANGE = new Set(['$gt', '$gte', '$lt', '$lte']);
const LIST = new Set(['$in', '$nin']);

const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** The filter parsed from text, or an error message saying what is wrong and where. Empty text: no filter. */
export function parseFilter(text: string): { filter?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `The filter is not valid JSON: ${(err as Error).message}` };
  }
  const error = check(value, 'filter');
  return error ? { error } : { filter: value as Record<string, unknown> };
}

function check(value: unknown, where: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where} must be an object`;
  for (const [key, operand] of Object.entries(value)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(operand) || operand.length === 0) return `${where}.${key} must be a non-empty array of filters`;
      for (const [i, sub] of operand.entries()) {
        const error = check(sub, `${where}.${key}[${i}]`);
        if (error) return error;
      }
    } else if (key.startsWith('$')) {
      return `${where}: unknown operator ${key} at the top level (use a field name, $and or $or)`;
    } else {
      const error = checkField(operand, `${where}.${key}`);
      if (error) return error;
    }
  }
  return undefined;
}

function checkField(operand: unknown, where: string): string | undefined {
  if (scalar(operand)) return undefined;
  if (typeof operand !== 'object' || operand === null || Array.isArray(operand)) return `${where} must be a value or an operator object`;
  const entries = Object.entries(operand);
  if (entries.length === 0) return `${where} has no operator`;
  for (const [op, arg] of entries) {
    if (COMPARE.has(op)) {
      if (!scalar(arg)) return `${where}.${op} takes a string, number or boolean`;
    } else if (RANGE.has(op)) {
      if (typeof arg !== 'number' || !Number.isFinite(arg)) return `${where}.${op} takes a number`;
    } else if (LIST.has(op)) {
      if (!Array.isArray(arg) || arg.length === 0 || !arg.every(scalar)) return `${where}.${op} takes a non-empty array of values`;
    } else if (op === '$exists') {
      if (typeof arg !== 'boolean') return `${where}.$exists takes true or false`;
    } else {
      return `${where}: unknown operator ${op}`;
    }
  }
  return undefined;
}
