// SPDX-License-Identifier: Apache-2.0
//
// dcmjs-dimse as a Storage Commitment Push Model SCU for the interop tests.
//
// request: opens one association, sends one N-ACTION-RQ (Action Type ID 1)
// and keeps the association open for LINGER_MS after the response, so that
// the N-EVENT-REPORT can come back on it. Prints one JSON line for the
// response, {"action": "0x0000", "comment": ...}, and one per report,
// {"event": 1|2, "transaction": ..., "retrieve_ae": ..., "committed": [UID...],
// "failed": [[UID, reason]...], "association": "same"}.
//
// listen: runs an SCP on PORT for LINGER_MS that accepts Storage Commitment
// (with the SCP/SCU Role Selection the archive proposes), answers each
// N-EVENT-REPORT-RQ with 0000 and prints it as above with "association":
// "new" plus the calling AE title.
//
// Exits 0, 1 on a usage error, 2 on a network error or a rejected association.
//
// Usage: node commit.js request PORT CALLED_AE CALLING_AE TRANSACTION_UID REFS_JSON LINGER_MS
//          REFS_JSON: [[SOP Class UID, SOP Instance UID], ...]; "omit-transaction" as
//          TRANSACTION_UID leaves the Transaction UID out; ACTION_TYPE env sets the Action Type ID
//        node commit.js listen PORT LINGER_MS

'use strict';

const dcmjs = require('dcmjs');
const dcmjsDimse = require('dcmjs-dimse');

const { Client, Server, Scp, Dataset } = dcmjsDimse;
const { NActionRequest } = dcmjsDimse.requests;
const { NEventReportResponse } = dcmjsDimse.responses;
const { PresentationContextResult, Status } = dcmjsDimse.constants;

const COMMITMENT_CLASS = '1.2.840.10008.1.20.1';
const COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';

function hex(status) {
  return '0x' + status.toString(16).toUpperCase().padStart(4, '0');
}

function usage() {
  console.error('usage: node commit.js request PORT CALLED_AE CALLING_AE TRANSACTION_UID ' +
    'REFS_JSON LINGER_MS');
  console.error('       node commit.js listen PORT LINGER_MS');
  process.exit(1);
}

function asList(value) {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

// Describes the Event Information of an N-EVENT-REPORT-RQ as one JSON object.
function describeReport(request, association) {
  const info = request.getDataset() ? request.getDataset().getElements() : {};
  return {
    event: request.getEventTypeId(),
    transaction: info.TransactionUID,
    retrieve_ae: info.RetrieveAETitle,
    committed: asList(info.ReferencedSOPSequence).map((item) => item.ReferencedSOPInstanceUID),
    failed: asList(info.FailedSOPSequence).map((item) =>
      [item.ReferencedSOPInstanceUID, hex(item.FailureReason)]),
    association,
  };
}

// fromRequest leaves the Status at 0110 (processing failure); the report is accepted.
function successResponse(report) {
  const response = NEventReportResponse.fromRequest(report);
  response.setStatus(Status.Success);
  return response;
}

function request(args) {
  const [port, calledAe, callingAe, transactionUid, refsJson, lingerMs] = args;
  if (!port || !calledAe || !callingAe || !transactionUid || !refsJson || !lingerMs) usage();

  const refs = JSON.parse(refsJson);
  const elements = {
    ReferencedSOPSequence: refs.map(([sopClass, sopInstance]) => ({
      ReferencedSOPClassUID: sopClass,
      ReferencedSOPInstanceUID: sopInstance,
    })),
  };
  if (transactionUid !== 'omit-transaction') elements.TransactionUID = transactionUid;

  const action = new NActionRequest(COMMITMENT_CLASS, COMMITMENT_INSTANCE,
    Number(process.env.ACTION_TYPE || 1));
  action.setDataset(new Dataset(elements));

  const client = new Client();
  let failed = false;
  action.on('response', (response) => {
    const line = { action: hex(response.getStatus()) };
    if (response.getErrorComment()) line.comment = response.getErrorComment();
    console.log(JSON.stringify(line));
  });
  client.addRequest(action);
  client.on('nEventReportRequest', (report, callback) => {
    console.log(JSON.stringify(describeReport(report, 'same')));
    callback(successResponse(report));
  });
  client.on('associationRejected', (result) => {
    console.log('error: association rejected: ' + JSON.stringify(result));
    failed = true;
  });
  client.on('networkError', (error) => {
    console.log('error: network error: ' + error);
    failed = true;
  });
  client.on('closed', () => process.exit(failed ? 2 : 0));
  client.send('127.0.0.1', Number(port), callingAe, calledAe, {
    connectTimeout: 10000,
    associationTimeout: 30000,
    pduTimeout: 60000,
    associationLingerTimeout: Number(lingerMs),
  });
}

class CommitmentReportScp extends Scp {
  associationRequested(association) {
    this.association = association;
    association.getPresentationContexts().forEach(({ context }) => {
      if (context.getAbstractSyntaxUid() === COMMITMENT_CLASS) {
        context.setResult(PresentationContextResult.Accept,
          context.getTransferSyntaxUids()[0]);
      } else {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      }
    });
    this.sendAssociationAccept();
  }

  nEventReportRequest(report, callback) {
    const line = describeReport(report, 'new');
    line.calling_ae = this.association.getCallingAeTitle();
    console.log(JSON.stringify(line));
    callback(successResponse(report));
  }

  associationReleaseRequested() {
    this.sendAssociationReleaseResponse();
  }
}

function listen(args) {
  const [port, lingerMs] = args;
  if (!port || !lingerMs) usage();

  const server = new Server(CommitmentReportScp);
  server.on('networkError', (error) => console.log('error: network error: ' + error));
  server.listen(Number(port));
  console.log(JSON.stringify({ listening: Number(port) }));
  setTimeout(() => {
    server.close();
    process.exit(0);
  }, Number(lingerMs));
}

function main() {
  dcmjsDimse.log.setLevel('error');
  dcmjs.log.setLevel('error');

  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'request') request(rest);
  else if (mode === 'listen') listen(rest);
  else usage();
}

main();
