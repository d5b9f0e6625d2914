import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

// The one rule for a host name someone wrote (a proxy URL's host, a NO_PROXY entry, a config rule's host, a target
// with non-ASCII letters): its ASCII form as it goes on the wire and into comparisons, or undefined when it is not a
// host name at all. Each caller decides what "not a name" means where it is (a usage error for a proxy URL and a
// config rule, an ignored entry with a warning for NO_PROXY); none falls back to the text as written, so a name
// that cannot be converted can never match, or be dialed, by accident.
//
// - IP literals (IPv6 without brackets) are returned as they are: they are addresses, not names.
// - Unicode names take their IDNA form (UTS #46, as Go's net/http and curl send them): "bücher.example" ->
//   "xn--bcher-kva.example"; upper case is folded. A name with no IDNA form ("xn--ä.example") is not a name.
//   An ASCII name that IDNA refuses is taken as it is (lower-cased), as Go's net/http does (idnaASCII): "xn--a.example",
//   whose label is no valid punycode, is still a name DNS can look up, and NO_PROXY must match it as tsh would;
//   unless it ends in a number ("999.1.1.1"), which makes it a malformed IPv4 address.
// - Labels are letters, digits, "-" and "_" (internal DNS has underscores), none empty and none over 63 octets,
//   the whole at most 253; one trailing dot (a fully qualified name) is kept, and callers that compare without it
//   strip it themselves.
// - "%" (percent-encoding, or an IPv6 zone on something that is no IPv6 address), spaces, control characters, URL
//   syntax, brackets and glob characters are not part of a name.

const NOT_IN_A_NAME = /[\u0000-\u0020\u007f-\u009f%/\\?#@:[\]*,;]/;
const ASCII_LABEL = /^[a-z0-9_-]{1,63}$/;
const ASCII_ONLY = /^[\u0000-\u007f]*$/;
/** The URL standard's "ends in a number": such a host is an IPv4 address, and one that does not parse is no name. */
const ENDS_IN_A_NUMBER = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)\.?$/i;

export function hostNameToAscii(text: string): string | undefined {
  if (isIP(text) !== 0) return text;
  if (text === '' || NOT_IN_A_NAME.test(text)) return undefined;
  const ascii = domainToASCII(text) || (ASCII_ONLY.test(text) && !ENDS_IN_A_NUMBER.test(text) ? text.toLowerCase() : '');
  if (ascii === '') return undefined;
  const name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (name.length === 0 || name.length > 253) return undefined;
  return name.split('.').every((label) => ASCII_LABEL.test(label)) ? ascii : undefined;
}
