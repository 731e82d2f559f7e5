// SPDX-License-Identifier: Apache-2.0
//
// dcmjs-dimse as a C-ECHO and C-STORE SCU for the interop tests. It opens
// one association, sends a C-ECHO and then one C-STORE per file, and
// prints one line per response: "echo status=0xXXXX" and
// "store FILE status=0xXXXX". Exits 0 when every request got a response,
// 1 on a usage error, and 2 on a network error, a rejected association
// or the 120 s overall timeout.
//
// Usage: node store.js PORT CALLED_AE FILE...

'use strict';

const dcmjs = require('dcmjs');
const dcmjsDimse = require('dcmjs-dimse');

const { Client } = dcmjsDimse;
const { CEchoRequest, CStoreRequest } = dcmjsDimse.requests;

const OVERALL_TIMEOUT_MS = 120000;

function hex(status) {
  return '0x' + status.toString(16).toUpperCase().padStart(4, '0');
}

function main() {
  // Both libraries log every PDU and every private tag at info level.
  dcmjsDimse.log.setLevel('error');
  dcmjs.log.setLevel('error');

  const [port, calledAe, ...files] = process.argv.slice(2);
  if (!port || !calledAe || files.length === 0) {
    console.error('usage: node store.js PORT CALLED_AE FILE...');
    process.exit(1);
  }

  const timer = setTimeout(() => {
    console.log('error: no end of association within ' + OVERALL_TIMEOUT_MS / 1000 + ' s');
    process.exit(2);
  }, OVERALL_TIMEOUT_MS);

  const client = new Client();
  let expected = files.length + 1;
  let failed = false;

  const echo = new CEchoRequest();
  echo.on('response', (response) => {
    expected -= 1;
    console.log('echo status=' + hex(response.getStatus()));
  });
  client.addRequest(echo);

  for (const file of files) {
    const request = new CStoreRequest(file);
    request.on('response', (response) => {
      expected -= 1;
      const comment = response.getErrorComment ? response.getErrorComment() : undefined;
      console.log('store ' + file + ' status=' + hex(response.getStatus()) +
        (comment ? ' comment=' + comment : ''));
    });
    client.addRequest(request);
  }

  client.on('associationRejected', (result) => {
    console.log('error: association rejected: ' + JSON.stringify(result));
    failed = true;
  });
  client.on('networkError', (error) => {
    console.log('error: network error: ' + error);
    failed = true;
  });
  client.on('closed', () => {
    clearTimeout(timer);
    if (expected !== 0) {
      console.log('error: association closed with ' + expected + ' request(s) unanswered');
    }
    process.exit(failed || expected !== 0 ? 2 : 0);
  });

  client.send('127.0.0.1', Number(port), 'DCMJSDIMSE', calledAe, {
    connectTimeout: 10000,
    associationTimeout: 30000,
    pduTimeout: 30000,
  });
}

main();
