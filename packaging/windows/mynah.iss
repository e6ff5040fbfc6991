; Inno Setup script for Mynah on Windows (Inno Setup 6).
;
; Build the bundle first, on Windows, from the repository root:
;   python packaging\icons\render_icons.py --ico build\icons\mynah.ico
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\mynah.spec
; then:
;   iscc /DAppVersion=0.1.0 packaging\windows\mynah.iss      -> dist\mynah-0.1.0-setup.exe
;
; Installs per user by default (no admin prompt); "Install for all users" is offered.
; Registers Mynah under "Open with" for the audio and video files it imports, without taking
; over the default player.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppId "io.github.mynah.Mynah"
#define SourceDir "..\..\dist\mynah"

[Setup]
AppId={{8E0C7C55-3B53-4C1B-9E0E-6B7D3A1F2C11}
AppName=Mynah
AppVersion={#AppVersion}
AppPublisher=The Mynah developers
AppPublisherURL=https://github.com/mynah/mynah
DefaultDirName={autopf}\Mynah
DefaultGroupName=Mynah
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=mynah-{#AppVersion}-setup
SetupIconFile=..\..\build\icons\mynah.ico
UninstallDisplayIcon={app}\mynah.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Mynah"; Filename: "{app}\mynah.exe"
Name: "{group}\Mynah self-check"; Filename: "{cmd}"; Parameters: "/k ""{app}\mynah-cli.exe"" self-check"
Name: "{group}\{cm:UninstallProgram,Mynah}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Mynah"; Filename: "{app}\mynah.exe"; Tasks: desktopicon

[Registry]
; One ProgID, offered in "Open with" for each extension Mynah imports.
Root: HKA; Subkey: "Software\Classes\{#AppId}.Audio"; ValueType: string; ValueData: "Audio file (Mynah)"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#AppId}.Audio\DefaultIcon"; ValueType: string; ValueData: "{app}\mynah.exe,0"
Root: HKA; Subkey: "Software\Classes\{#AppId}.Audio\shell\open\command"; ValueType: string; ValueData: """{app}\mynah.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.wav\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.flac\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.ogg\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.opus\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mp3\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.m4a\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aac\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aiff\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.wma\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.amr\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mp4\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mov\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mkv\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.webm\OpenWithProgids"; ValueType: string; ValueName: "{#AppId}.Audio"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\mynah.exe"; Description: "{cm:LaunchProgram,Mynah}"; Flags: nowait postinstall skipifsilent
