// libsodium 1.0.18 (Debian libsodium-dev). Every function the wrapper needs
// imports directly into Swift, so this header only includes the library.
#include <sodium.h>
