/** The device a request authenticated as (`request.device` on device routes). */
export interface DevicePrincipal {
  kind: 'device';
  /** Row id (uuid). */
  id: string;
  /** What the device calls itself. */
  deviceId: string;
  /** The channel it follows and that channel's line; null when the channel was deleted. */
  channelId: string | null;
  lineId: string | null;
}
