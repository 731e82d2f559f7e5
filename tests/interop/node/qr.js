// SPDX-License-Identifier: Apache-2.0
//
// dcmjs-dimse as a C-FIND and C-MOVE SCU for the interop tests. It opens
// one association, sends one request and prints one JSON line per
// response: {"status": "0xFF00", "identifier": {...}} for C-FIND, with the
// identifier in dcmjs's naturalized form, and {"status": ..., "remaining":
// ..., "completed": ..., "failed": ..., "warning": ...} for C-MOVE.
// Exits 0 when the final response arrived, 1 on a usage error, and 2 on a
// network error, a rejected association or the 120 s overall timeout.
//
// Usage: node qr.js find PORT CALLED_AE study|patient IDENTIFIER_JSON
//        node qr.js move PORT CALLED_AE study|patient DESTINATION_AE IDENTIFIER_JSON

'use strict';

const dcmjs = require('dcmjs');
const dcmjsDimse = require('dcmjs-dimse');

const { Client, Dataset } = dcmjsDimse;
const { CFindRequest, CMoveRequest } = dcmjsDimse.requests;

const OVERALL_TIMEOUT_MS = 120000;

// Query/Retrieve information model SOP classes (PS3.4 C.6).
const MODELS = {
  find: { study: '1.2.840.10008.5.1.4.1.2.2.1', patient: '1.2.840.10008.5.1.4.1.2.1.1' },
  move: { study: '1.2.840.10008.5.1.4.1.2.2.2', patient: '1.2.840.10008.5.1.4.1.2.1.2' },
};

function hex(status) {
  return '0x' + status.toString(16).toUpperCase().padStart(4, '0');
}

function usage() {
  console.error('usage: node qr.js find PORT CALLED_AE study|patient IDENTIFIER_JSON');
  console.error('       node qr.js move PORT CALLED_AE study|patient DESTINATION_AE IDENTIFIER_JSON');
  process.exit(1);
}

// Builds the request from the command line, or exits on a usage error.
function buildRequest(operation, model, rest) {
  const sopClass = MODELS[operation] && MODELS[operation][model];
  if (!sopClass) usage();

  if (operation === 'find') {
    if (rest.length !== 1) usage();
    const request = new CFindRequest();
    request.setAffectedSopClassUid(sopClass);
    request.setDataset(new Dataset(JSON.parse(rest[0])));
    return request;
  }

  if (rest.length !== 2) usage();
  const request = new CMoveRequest();
  request.setAffectedSopClassUid(sopClass);
  request.getCommandDataset().setElement('MoveDestination', rest[0]);
  request.setDataset(new Dataset(JSON.parse(rest[1])));
  return request;
}

function describe(operation, response) {
  const line = { status: hex(response.getStatus()) };
  const comment = response.getErrorComment ? response.getErrorComment() : undefined;
  if (comment) line.comment = comment;
  if (operation === 'move') {
    line.remaining = response.getRemaining();
    line.completed = response.getCompleted();
    line.failed = response.getFailures();
    line.warning = response.getWarnings();
  }
  const dataset = response.getDataset();
  if (dataset) line.identifier = dataset.getElements();
  return line;
}

function main() {
  dcmjsDimse.log.setLevel('error');
  dcmjs.log.setLevel('error');

  const [operation, port, calledAe, model, ...rest] = process.argv.slice(2);
  if (!operation || !port || !calledAe || !model) usage();
  const request = buildRequest(operation, model, rest);

  const timer = setTimeout(() => {
    console.log('error: no end of association within ' + OVERALL_TIMEOUT_MS / 1000 + ' s');
    process.exit(2);
  }, OVERALL_TIMEOUT_MS);

  const client = new Client();
  let finalSeen = false;
  let failed = false;

  request.on('response', (response) => {
    const status = response.getStatus();
    if (status !== 0xff00 && status !== 0xff01) finalSeen = true;
    console.log(JSON.stringify(describe(operation, response)));
  });
  client.addRequest(request);

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
    if (!finalSeen) console.log('error: association closed before the final response');
    process.exit(failed || !finalSeen ? 2 : 0);
  });

  client.send('127.0.0.1', Number(port), 'DCMJSQR', calledAe, {
    connectTimeout: 10000,
    associationTimeout: 30000,
    pduTimeout: 60000,
  });
}

main();
