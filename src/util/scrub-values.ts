/**
 * Cuts the values a server quotes back when it refuses them. OpenSearch names the offending
 * value in its reasons ("Preview of field's value: 'alice'", "value [alice]", the bytes of an
 * immense term): in a log line or a readiness detail that is record content (a user name, a key
 * handle), so the quoted part is replaced by `[removed]`. The event itself is in the dead letter.
 */
const QUOTED_VALUES: readonly RegExp[] = [
  /(Preview of field's value: )'[^']*'/g,
  /(value )\[[^\]]*\]/g,
  /(input string: )"[^"]*"/g,
  /(The prefix of the first immense term is: )'[^']*'/g,
];

export function scrubQuotedValues(text: string): string {
  let scrubbed = text;
  for (const pattern of QUOTED_VALUES) scrubbed = scrubbed.replace(pattern, '$1[removed]');
  return scrubbed;
}
