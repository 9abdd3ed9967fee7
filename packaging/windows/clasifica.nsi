; Clasifica's Windows installer (NSIS 3). packaging/windows/build.sh runs
;   makensis -DVERSION=… -DQUAD=a.b.c.d -DSTAGE=DIR -DFILES=files.nsh -DICON=… -DWIZARD=… -DOUTFILE=… clasifica.nsi
; WIZARD is the 164×314 BMP beside the welcome and finish pages, drawn from
; the icon by packaging/icons (without it NSIS shows its stock picture).
; STAGE holds the files to install; FILES deletes exactly those on uninstall
; (never RMDir /r on a folder the user may have chosen).
;
; Per-user by default, into %LOCALAPPDATA%\Programs\Clasifica, with no
; administrator rights; an administrator may choose all users (Program
; Files). Silent: /S, with /AllUsers or /CurrentUser.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma

!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Clasifica"
!define PROGID "Clasifica.Model"

!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_INSTALLMODE_DEFAULT_CURRENTUSER
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "Clasifica"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "Software\Clasifica"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallDir"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "Software\Clasifica"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallMode"
!include MultiUser.nsh
!include MUI2.nsh
!include FileFunc.nsh
!include LogicLib.nsh

Name "Clasifica"
OutFile "${OUTFILE}"
BrandingText "Clasifica ${VERSION}"

VIProductVersion "${QUAD}"
VIFileVersion "${QUAD}"
VIAddVersionKey "ProductName" "Clasifica"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "Clasifica ${VERSION} setup"
VIAddVersionKey "CompanyName" "Clasifica"
VIAddVersionKey "LegalCopyright" "The Clasifica authors"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_WELCOMEFINISHPAGE_BITMAP "${WIZARD}"
!define MUI_UNWELCOMEFINISHPAGE_BITMAP "${WIZARD}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\clasifica.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open Clasifica"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  !insertmacro MULTIUSER_INIT
FunctionEnd

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

Section "Clasifica" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${STAGE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\Clasifica.lnk" "$INSTDIR\clasifica.exe" "" "$INSTDIR\clasifica.exe" 0 SW_SHOWNORMAL "" "Teach your computer to sort photos"

  WriteRegStr SHCTX "Software\Clasifica" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "Software\Clasifica" "InstallMode" "$MultiUser.InstallMode"

  ; Settings → Apps (Programs and Features).
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayName" "Clasifica"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTKEY}" "Publisher" "Clasifica"
  WriteRegStr SHCTX "${UNINSTKEY}" "URLInfoAbout" "https://github.com/clasifica/clasifica"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\clasifica.exe,0"
  WriteRegStr SHCTX "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD SHCTX "${UNINSTKEY}" "EstimatedSize" $0

  ; .clasifica files open in the app.
  WriteRegStr SHCTX "Software\Classes\.clasifica" "" "${PROGID}"
  WriteRegStr SHCTX "Software\Classes\.clasifica" "Content Type" "application/x-clasifica"
  WriteRegStr SHCTX "Software\Classes\${PROGID}" "" "Clasifica model"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\clasifica.exe,0"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\clasifica.exe" "%1"'
  ; "clasifica" in Run (Win+R) and in `start clasifica`.
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\App Paths\clasifica.exe" "" "$INSTDIR\clasifica.exe"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)' ; SHCNE_ASSOCCHANGED
SectionEnd

; ONNX Runtime needs the Microsoft Visual C++ runtime (vcruntime140_1.dll,
; msvcp140.dll), which most Windows installations have but a fresh one may
; not: say where to get it rather than fail at the first start.
Function .onInstSuccess
  ${IfNot} ${FileExists} "$SYSDIR\vcruntime140_1.dll"
  ${OrIfNot} ${FileExists} "$SYSDIR\msvcp140.dll"
    ${IfNot} ${Silent}
      MessageBox MB_YESNO|MB_ICONEXCLAMATION "Clasifica needs the Microsoft Visual C++ Redistributable (x64), which is not installed on this computer.$\r$\n$\r$\nOpen Microsoft's download page now?" IDNO +2
      ExecShell "open" "https://aka.ms/vs/17/release/vc_redist.x64.exe"
    ${EndIf}
  ${EndIf}
FunctionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\Clasifica.lnk" "$INSTDIR\clasifica.exe"
SectionEnd

Section "Uninstall"
  ; Only the files the installer put there; the user's models, photos and
  ; settings live elsewhere and stay.
  !include "${FILES}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\Clasifica.lnk"
  Delete "$DESKTOP\Clasifica.lnk"

  DeleteRegKey SHCTX "${UNINSTKEY}"
  DeleteRegKey SHCTX "Software\Clasifica"
  ReadRegStr $0 SHCTX "Software\Classes\.clasifica" ""
  ${If} $0 == "${PROGID}"
    DeleteRegKey SHCTX "Software\Classes\.clasifica"
  ${EndIf}
  DeleteRegKey SHCTX "Software\Classes\${PROGID}"
  DeleteRegKey SHCTX "Software\Microsoft\Windows\CurrentVersion\App Paths\clasifica.exe"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  ; The downloaded weights (about 90 MB) and the feature cache are the
  ; user's: offer to remove them, never silently.
  SetShellVarContext current
  ${IfNot} ${Silent}
  ${AndIf} ${FileExists} "$LOCALAPPDATA\clasifica\*.*"
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Also remove Clasifica's downloaded weights and feature cache ($LOCALAPPDATA\clasifica)?$\r$\n$\r$\nYour photos and saved models are not touched either way." IDNO keep
    RMDir /r "$LOCALAPPDATA\clasifica"
    keep:
  ${EndIf}
SectionEnd
