// ZeroMQ 4.3.4 (Debian libzmq3-dev), built with libsodium for CURVE. Its
// functions and option constants import directly into Swift, so this header
// only includes the library.
#include <zmq.h>
