// The metering room's entry point: usage ledger, cost and quotas.
export { MeteringService, type BilledGeneration, type Caller, type MeteringOptions, type Reservation } from './metering-service.js';
export { periodsAt, secondsUntil, type Periods } from './usage-periods.js';
