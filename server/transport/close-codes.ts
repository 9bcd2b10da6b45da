/** Close code sent on shutdown: "service restart", which the client answers by reconnecting. */
export const CLOSE_SERVICE_RESTART = 1012;
/** A reader that fell behind: reconnect and resume from your last event id (nothing is lost). */
export const CLOSE_TOO_SLOW = 4008;
/** Live events may have been missed (the cross-instance bus reconnected): reconnect and resume from your last event id. */
export const CLOSE_RESUME = 4009;
/** More calls per second than WS_MAX_CALLS_PER_SECOND allows. */
export const CLOSE_TOO_MANY_CALLS = 4029;
/** More open subscriptions than WS_MAX_SUBSCRIPTIONS allows on one connection. */
export const CLOSE_TOO_MANY_SUBSCRIPTIONS = 4030;
