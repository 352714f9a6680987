// Checks of path and query parameters shared by the admin API and the control plane.
import { InvalidArgumentError } from '@conifer/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A boolean query flag: absent, "", "false" or "0" is false; "true" or "1" is true; anything else is a 400. */
export function parseFlag(value: unknown, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new InvalidArgumentError(`${name} must be true or false`);
}
