// Shared by both apps' raw-socket error handlers (Node's 'clientError': a request Node could not parse).

/**
 * Whether an answer to the connection's current request has already started: then an error answer must not
 * be written after it (the peer would read two answers to one request), the socket is only closed. This is
 * the check Node's own default handler makes.
 */
export function answerInFlight(socket: object): boolean {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return inFlight !== undefined && inFlight !== null && inFlight.headersSent === true;
}
