// A stand-in for Windows' bcryptprimitives.dll, for the Wine test only
// (never shipped): Wine 8.0 lacks the DLL, and Go 1.22 and later programs
// load it at start for ProcessPrng, the system's random generator. This
// ProcessPrng draws from RtlGenRandom (advapi32's SystemFunction036), which
// Wine has.
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
