// SPDX-License-Identifier: Apache-2.0
//
// dcmjs-dimse as the peers of the data router in the interop tests.
//
// create: a modality's MPPS SCU. Opens one association, sends one N-CREATE
// with a complete IN PROGRESS data set built here (OVERRIDES_JSON merges
// into it; a null value removes an attribute) and prints the response as
// {"status": "0x0000", "comment": ..., "error_id": ..., "attributes": [...],
// "invalid": {...}}.
//
// set: sends one N-SET. With STATUS COMPLETED or DISCONTINUED it carries
// the end date and time and one Performed Series Sequence item with
// SERIES_UID and the instances of REFS_JSON ([[class, instance], ...]);
// OVERRIDES_JSON merges into it as for create. rawset sends DATASET_JSON
// as it is.
//
// listen: an order filler or RIS on PORT for LINGER_MS. It accepts the SOP
// classes named in ACCEPT (comma-separated: mpps, ian, bscn), responds to each
// N-CREATE, N-SET and C-STORE with 0000 (or STATUS env, in hex) and prints
// one JSON line per request: {"op", "class", "uid", "calling_ae", "dataset"}.
//
// Exits 0, 1 on a usage error, 2 on a network error or a rejected association.
//
// Usage: node mpps.js create PORT CALLED_AE CALLING_AE SOP_UID STUDY_UID [OVERRIDES_JSON]
//        node mpps.js set PORT CALLED_AE CALLING_AE SOP_UID STATUS SERIES_UID REFS_JSON
//          [OVERRIDES_JSON]
//        node mpps.js rawset PORT CALLED_AE CALLING_AE SOP_UID DATASET_JSON
//        node mpps.js listen PORT LINGER_MS ACCEPT

'use strict';

const dcmjs = require('dcmjs');
const dcmjsDimse = require('dcmjs-dimse');

const { Client, Server, Scp, Dataset } = dcmjsDimse;
const { NCreateRequest, NSetRequest } = dcmjsDimse.requests;
const { NCreateResponse, NSetResponse, CStoreResponse } = dcmjsDimse.responses;
const { PresentationContextResult } = dcmjsDimse.constants;

const CLASSES = {
  mpps: '1.2.840.10008.3.1.2.3.3',
  ian: '1.2.840.10008.5.1.4.33',
  bscn: '1.2.840.10008.1.9',
};

function hex(status) {
  return '0x' + status.toString(16).toUpperCase().padStart(4, '0');
}

function usage() {
  console.error('usage: node mpps.js create PORT CALLED_AE CALLING_AE SOP_UID STUDY_UID ' +
    '[OVERRIDES_JSON]');
  console.error('       node mpps.js set PORT CALLED_AE CALLING_AE SOP_UID STATUS SERIES_UID ' +
    'REFS_JSON [OVERRIDES_JSON]');
  console.error('       node mpps.js rawset PORT CALLED_AE CALLING_AE SOP_UID DATASET_JSON');
  console.error('       node mpps.js listen PORT LINGER_MS ACCEPT');
  process.exit(1);
}

function merge(elements, overridesJson) {
  const overrides = overridesJson ? JSON.parse(overridesJson) : {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) delete elements[key];
    else elements[key] = value;
  }
  return elements;
}

function createDataset(studyUid, overridesJson) {
  return merge({
    SpecificCharacterSet: 'ISO_IR 100',
    ScheduledStepAttributesSequence: [{
      StudyInstanceUID: studyUid,
      ReferencedStudySequence: [],
      AccessionNumber: 'ACC1',
      RequestedProcedureID: 'RP1',
      RequestedProcedureDescription: 'CT chest',
      ScheduledProcedureStepID: 'SPS1',
      ScheduledProcedureStepDescription: 'CT chest',
      ScheduledProtocolCodeSequence: [],
    }],
    PatientName: 'Doe^Jane',
    PatientID: 'PID1',
    PatientBirthDate: '19700101',
    PatientSex: 'F',
    ReferencedPatientSequence: [],
    PerformedProcedureStepID: 'PPS1',
    PerformedStationAETitle: 'MODALITY',
    PerformedStationName: 'CT1',
    PerformedLocation: 'Room 1',
    PerformedProcedureStepStartDate: '20261205',
    PerformedProcedureStepStartTime: '101500',
    PerformedProcedureStepStatus: 'IN PROGRESS',
    PerformedProcedureStepDescription: 'CT chest',
    PerformedProcedureTypeDescription: '',
    ProcedureCodeSequence: [],
    PerformedProcedureStepEndDate: '',
    PerformedProcedureStepEndTime: '',
    Modality: 'CT',
    StudyID: 'S1',
    PerformedProtocolCodeSequence: [],
    PerformedSeriesSequence: [],
  }, overridesJson);
}

function setDataset(status, seriesUid, refsJson, overridesJson) {
  const elements = { PerformedProcedureStepStatus: status };
  if (status !== 'IN PROGRESS') {
    elements.PerformedProcedureStepEndDate = '20261205';
    elements.PerformedProcedureStepEndTime = '103000';
    elements.PerformedSeriesSequence = [{
      PerformingPhysicianName: '',
      ProtocolName: 'Chest',
      OperatorsName: '',
      SeriesInstanceUID: seriesUid,
      SeriesDescription: 'Axial',
      RetrieveAETitle: '',
      ReferencedImageSequence: JSON.parse(refsJson).map(([sopClass, sopInstance]) => ({
        ReferencedSOPClassUID: sopClass,
        ReferencedSOPInstanceUID: sopInstance,
      })),
      ReferencedNonImageCompositeSOPInstanceSequence: [],
    }];
  }
  return merge(elements, overridesJson);
}

// Reads the Attribute Identifier List of a response as "GGGGEEEE" strings.
function attributeList(response) {
  const value = response.getCommandDataset().getElement('AttributeIdentifierList');
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((tag) =>
    typeof tag === 'number' ? tag.toString(16).toUpperCase().padStart(8, '0') : String(tag));
}

function send(port, calledAe, callingAe, request) {
  const client = new Client();
  let failed = false;
  request.on('response', (response) => {
    const line = { status: hex(response.getStatus()) };
    if (response.getErrorComment()) line.comment = response.getErrorComment();
    const errorId = response.getCommandDataset().getElement('ErrorID');
    if (errorId !== undefined) line.error_id = hex(errorId);
    const attributes = attributeList(response);
    if (attributes !== undefined) line.attributes = attributes;
    if (response.getDataset()) line.invalid = response.getDataset().getElements();
    console.log(JSON.stringify(line));
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
  client.on('closed', () => process.exit(failed ? 2 : 0));
  client.send('127.0.0.1', Number(port), callingAe, calledAe, {
    connectTimeout: 10000,
    associationTimeout: 30000,
    pduTimeout: 30000,
  });
}

function create(args) {
  const [port, calledAe, callingAe, sopUid, studyUid, overrides] = args;
  if (!port || !calledAe || !callingAe || !sopUid || !studyUid) usage();
  const request = new NCreateRequest(CLASSES.mpps, sopUid === 'omit' ? '' : sopUid);
  request.setDataset(new Dataset(createDataset(studyUid, overrides)));
  send(port, calledAe, callingAe, request);
}

function set(args) {
  const [port, calledAe, callingAe, sopUid, status, seriesUid, refsJson, overrides] = args;
  if (!port || !calledAe || !callingAe || !sopUid || !status || !seriesUid || !refsJson) usage();
  const request = new NSetRequest(CLASSES.mpps, sopUid);
  request.setDataset(new Dataset(setDataset(status, seriesUid, refsJson, overrides)));
  send(port, calledAe, callingAe, request);
}

function rawset(args) {
  const [port, calledAe, callingAe, sopUid, datasetJson] = args;
  if (!port || !calledAe || !callingAe || !sopUid || !datasetJson) usage();
  const request = new NSetRequest(CLASSES.mpps, sopUid);
  request.setDataset(new Dataset(JSON.parse(datasetJson)));
  send(port, calledAe, callingAe, request);
}

function acceptedClasses() {
  return (process.env.ACCEPT_CLASSES || '').split(',').filter((name) => name)
    .map((name) => CLASSES[name]);
}

class RouterPeerScp extends Scp {
  associationRequested(association) {
    this.association = association;
    const accepted = acceptedClasses();
    association.getPresentationContexts().forEach(({ context }) => {
      if (accepted.includes(context.getAbstractSyntaxUid())) {
        context.setResult(PresentationContextResult.Accept,
          context.getTransferSyntaxUids()[0]);
      } else {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      }
    });
    this.sendAssociationAccept();
  }

  print(op, request, sopClass, sopUid) {
    console.log(JSON.stringify({
      op,
      class: sopClass,
      uid: sopUid,
      calling_ae: this.association.getCallingAeTitle(),
      dataset: request.getDataset() ? request.getDataset().getElements() : null,
    }));
  }

  answer(response) {
    response.setStatus(process.env.STATUS ? parseInt(process.env.STATUS, 16) : 0);
    return response;
  }

  nCreateRequest(request, callback) {
    this.print('n-create', request, request.getAffectedSopClassUid(),
      request.getAffectedSopInstanceUid());
    callback(this.answer(NCreateResponse.fromRequest(request)));
  }

  nSetRequest(request, callback) {
    this.print('n-set', request, request.getRequestedSopClassUid(),
      request.getRequestedSopInstanceUid());
    callback(this.answer(NSetResponse.fromRequest(request)));
  }

  cStoreRequest(request, callback) {
    this.print('c-store', request, request.getAffectedSopClassUid(),
      request.getAffectedSopInstanceUid());
    callback(this.answer(CStoreResponse.fromRequest(request)));
  }

  associationReleaseRequested() {
    this.sendAssociationReleaseResponse();
  }
}

function listen(args) {
  const [port, lingerMs, accept] = args;
  if (!port || !lingerMs || !accept) usage();
  process.env.ACCEPT_CLASSES = accept;

  const server = new Server(RouterPeerScp);
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
  if (mode === 'create') create(rest);
  else if (mode === 'set') set(rest);
  else if (mode === 'rawset') rawset(rest);
  else if (mode === 'listen') listen(rest);
  else usage();
}

main();
