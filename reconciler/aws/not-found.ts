/** Only ResourceNotFoundException means "absent": any other error (a throttle, AccessDenied) is an error. */
import { errorName } from "../core/errors.ts";

export function isNotFound(error: unknown): boolean {
  return errorName(error) === "ResourceNotFoundException";
}
