/*
 * bcryptprimitives.dll, cut down to the one function Rust's std imports.
 *
 * Since Rust 1.78, std on Windows fills its random keys (HashMap's RandomState)
 * with ProcessPrng from bcryptprimitives.dll, and imports it at load time: a
 * Windows without that DLL cannot start any Rust program. Wine gained the DLL
 * in 8.13; Debian 12 ships Wine 8.0, where every Rust .exe exits at once with
 * status 53 (and, with WINEDEBUG=-all, no message at all).
 *
 * This file is built with mingw-w64 by .ci/wine/setup and copied into the Wine
 * prefix's system32, never into a real Windows. It forwards to RtlGenRandom
 * (advapi32's SystemFunction036), which Wine has had for a long time and which
 * is what Wine's own ProcessPrng calls.
 */
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom, exported by advapi32 as SystemFunction036 */

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData), as Microsoft documents it. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    /* RtlGenRandom takes a ULONG length; SIZE_T is 64 bits wide here. */
    while (size > 0) {
        ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}
