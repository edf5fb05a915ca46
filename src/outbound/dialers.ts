import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { RecordingDialer, type Dialer } from './dialer.js';
import { ExotelDialer } from './exotelDialer.js';
import { HttpDialer } from './httpDialer.js';
import { PlivoDialer } from './plivoDialer.js';
import { TwilioDialer } from './twilioDialer.js';

/** The `prod` stage's dialer as DIALER picks it (docs/http.md §9); config.ts checked its settings. */
export function prodDialer(config: Config, logger: Logger): Dialer {
  const timeoutMs = config.DIALER_TIMEOUT_MS;
  switch (config.DIALER) {
    case 'http':
      return new HttpDialer(config.DIALER_URL!, timeoutMs);
    case 'twilio':
      return new TwilioDialer({ accountSid: config.TWILIO_ACCOUNT_SID!, authToken: config.TWILIO_AUTH_TOKEN!, apiUrl: config.TWILIO_API_URL, timeoutMs });
    case 'plivo':
      return new PlivoDialer({ authId: config.PLIVO_AUTH_ID!, authToken: config.PLIVO_AUTH_TOKEN!, apiUrl: config.PLIVO_API_URL, timeoutMs });
    case 'exotel':
      return new ExotelDialer({
        accountSid: config.EXOTEL_ACCOUNT_SID!,
        apiKey: config.EXOTEL_API_KEY!,
        apiToken: config.EXOTEL_API_TOKEN!,
        apiUrl: config.EXOTEL_API_URL,
        timeoutMs,
      });
    case 'record':
      return new RecordingDialer(logger);
  }
}

/** Platforms that report each call's outcome to POST /outbound/{stage}/status/{key}. */
export function reportsOutcomes(config: Config): boolean {
  return config.DIALER === 'twilio' || config.DIALER === 'plivo' || config.DIALER === 'exotel';
}
