import { defineError } from '@modelfleet/errors';

export const JsonTooDeep = defineError('MF_ERR_JSON_TOO_DEEP', 400, 'the JSON body is nested deeper than %s levels');
