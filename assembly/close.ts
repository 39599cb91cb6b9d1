// Close frame payloads (RFC 6455 5.5.1, 7.4): a status code that may appear on the wire,
// then a UTF-8 reason. The twin of FrameDecoder.endClose in src/protocol/frame-decoder.ts.

import { utf8Validate } from './utf8';

/** `checkClosePayload`: a 1-byte payload. */
export const CLOSE_ONE_BYTE: i32 = -1;
/** `checkClosePayload`: a status code that must not be sent (its value is in the first 2 bytes). */
export const CLOSE_INVALID_CODE: i32 = -2;
/** `checkClosePayload`: the reason is not valid UTF-8. */
export const CLOSE_INVALID_REASON: i32 = -3;

/** Whether a close code may appear on the wire: 1000-1003, 1007-1011, 3000-4999. */
// @ts-ignore: decorator
@inline
export function closeCodeIsValid(code: u32): bool {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/**
 * Checks the (unmasked) close payload of `len` bytes at `ptr`. Returns the status code (1005
 * when the payload is empty) or a negative CLOSE_* reason. `scratch` is 12 bytes the
 * validator may use.
 */
export function checkClosePayload(ptr: usize, len: usize, scratch: usize): i32 {
  if (len == 0) return 1005;
  if (len == 1) return CLOSE_ONE_BYTE;
  const code = <u32>bswap<u16>(load<u16>(ptr));
  if (!closeCodeIsValid(code)) return CLOSE_INVALID_CODE;
  store<u32>(scratch, 0);
  if (utf8Validate(ptr + 2, len - 2, scratch) != -1 || load<u32>(scratch) != 0) return CLOSE_INVALID_REASON;
  return <i32>code;
}
