// Checks a Keyward checkpoint and an inclusion proof with @sigstore/verify's own code, which nobody at Keyward
// wrote: the signed-note checkpoint (key hint, ECDSA signature) and the RFC 6962/9162 inclusion proof of a leaf.
// argv[2]: the @sigstore/verify package directory; stdin: {origin, publicKeyPem, leaf, index, treeSize, rootHash, hashes, checkpoint}.
const verifyPath = process.argv[2];
const { verifyCheckpoint } = require(verifyPath + '/dist/tlog/checkpoint');
const { verifyMerkleInclusion } = require(verifyPath + '/dist/tlog/merkle');
const crypto = require('crypto');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const q = JSON.parse(input);
  const publicKey = crypto.createPublicKey(q.publicKeyPem);
  const logID = crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
  const entry = {
    canonicalizedBody: Buffer.from(q.leaf, 'base64'),
    inclusionProof: {
      logIndex: String(q.index),
      rootHash: Buffer.from(q.rootHash, 'base64'),
      treeSize: String(q.treeSize),
      hashes: q.hashes.map((h) => Buffer.from(h, 'base64')),
      checkpoint: { envelope: q.checkpoint },
    },
  };
  try {
    const checkpoint = verifyCheckpoint(entry, [{ logID, publicKey, baseURL: 'https://' + q.origin }]);
    verifyMerkleInclusion(entry, checkpoint);
    console.log('OK ' + checkpoint.logSize);
  } catch (e) {
    console.log('FAILED ' + (e.code || '') + ' ' + e.message);
    process.exitCode = 1;
  }
});
