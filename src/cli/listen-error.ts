// What `keel` prints when it cannot listen: one line per errno a user can act on (port in use, no
// permission for a low port, an address this host does not have, a host name that does not
// resolve), the errno in parentheses; anything else with its message.

/** The stderr line (no newline) for a failed listen(host, port). */
export function listenErrorMessage(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `keel: port ${port} is already in use (EADDRINUSE)`;
    case 'EACCES':
      return `keel: no permission to listen on port ${port} (EACCES; ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `keel: address ${host} is not one of this host's (EADDRNOTAVAIL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `keel: cannot resolve host ${host} (${error.code})`;
    default:
      return `keel: cannot listen on ${host}:${port}: ${error.message}${error.code ? ` (${error.code})` : ''}`;
  }
}
