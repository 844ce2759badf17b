import { defineError } from '@modelfleet/errors';

export const RouteNotFound = defineError('MF_ERR_ROUTE_NOT_FOUND', 404, 'no route %s %s');
export const RequestInvalid = defineError('MF_ERR_REQUEST_INVALID', 400, '%s');
export const BodyTooLarge = defineError('MF_ERR_BODY_TOO_LARGE', 413, 'request body is larger than %s bytes');
export const MediaTypeUnsupported = defineError('MF_ERR_MEDIA_TYPE_UNSUPPORTED', 415, 'unsupported content type %s');
export const RequestRejected = defineError('MF_ERR_REQUEST_REJECTED', 400, '%s');
export const ServiceUnavailable = defineError('MF_ERR_SERVICE_UNAVAILABLE', 503, '%s');
export const DataDirLocked = defineError('MF_ERR_DATA_DIR_LOCKED', 500, 'data folder %s is in use by process %s');
