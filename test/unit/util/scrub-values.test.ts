import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { scrubQuotedValues } from '../../../src/util/scrub-values.js';

describe('scrubQuotedValues', () => {
  it('cuts the values OpenSearch quotes back, keeping what to act on', () => {
    // As OpenSearch 2.19.4 words them (the immense term: a 40 KB user name, probed on the node).
    const immense =
      'illegal_argument_exception: Document contains at least one immense term in field="user.name" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped.  Please correct the analyzer to not produce such terms.  The prefix of the first immense term is: \'[97, 108, 105, 99, 101, 97, 108, 105]...\', original message: bytes can be at most 32766 in length; got 40000';
    const scrubbed = scrubQuotedValues(immense);
    assert.doesNotMatch(scrubbed, /97, 108/);
    assert.match(scrubbed, /immense term in field="user\.name"/);
    assert.match(scrubbed, /The prefix of the first immense term is: \[removed\]/);
    assert.equal(
      scrubQuotedValues(
        "failed to parse field [device.ip] of type [ip]. Preview of field's value: 'alice'",
      ),
      "failed to parse field [device.ip] of type [ip]. Preview of field's value: [removed]",
    );
  });
});
