// Windows only: binds the addon's Node imports to the program it is loaded
// into, whatever that program's file is called.
//
// The import library the addon links against (made from node.exe's exports
// by tools/prebuilds) names the module providing napi_*, uv_*, OpenSSL and
// zlib as "node.exe". Bound at load time, Windows would look for a file of
// that name: an addon in Electron, or in a node.exe renamed or embedded in
// another program, would fail to load or pull in a second Node. So the
// imports are delay-loaded (dlltool --output-delaylib) and, when the first
// call resolves them, this hook answers "which module is node.exe?" with
// the running program's own module, the one that exports them.
#include <windows.h>

#include <delayimp.h>

namespace {

// lld, linking dlltool's delay-load import library, puts the slots the
// helper fills in (dlltool's .idata$5) among the ordinary imports, in
// read-only .rdata; the helper's write to the first one faulted ("page
// fault on write access" under wine, as it would on Windows). MSVC's own
// helper makes a protected delay-load table writable before it writes;
// mingw's does not, so the hook does, slot by slot. The page stays
// writable: restoring it would race another thread resolving a neighbour,
// and GNU ld leaves its whole import table writable anyway.
void MakeSlotWritable(FARPROC* slot) {
  DWORD previous = 0;
  VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &previous);
}

FARPROC WINAPI BindNodeToHostProgram(unsigned notification, PDelayLoadInfo info) {
  if (lstrcmpiA(info->szDll, "node.exe") != 0) return nullptr;
  if (notification == dliStartProcessing) MakeSlotWritable(info->ppfn);
  if (notification == dliNotePreLoadLibrary) return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
  return nullptr;
}

}  // namespace

// The delay-load helper (delayimp, linked in by the toolchain) calls this
// before loading each delay-loaded DLL; defining it replaces the default,
// which is no hook.
PfnDliHook __pfnDliNotifyHook2 = BindNodeToHostProgram;
