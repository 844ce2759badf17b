import { defineError } from '@modelfleet/errors';

export const DashboardFileNotFound = defineError('MF_ERR_DASHBOARD_FILE_NOT_FOUND', 404, 'no dashboard file %s');
