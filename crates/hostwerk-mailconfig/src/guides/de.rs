//! The German guide texts.

use super::{Client, GuideText};

pub(super) fn guide(client: Client) -> GuideText {
    match client {
        Client::Thunderbird => GuideText {
            title: "{address} in Thunderbird einrichten",
            steps: &[
                "Öffnen Sie Thunderbird und wählen Sie ☰ (Anwendungsmenü) → „Konten-Einstellungen“ → „Konten-Aktionen“ → „E-Mail-Konto hinzufügen…“.",
                "Geben Sie Ihren Namen, die E-Mail-Adresse {address} und das Passwort des Postfachs ein und klicken Sie auf „Manuell einrichten“.",
                "Wählen Sie unter „POSTEINGANGS-SERVER“ das Protokoll „IMAP“ und tragen Sie ein: Hostname {imap_host}, Port {imap_port}, Verbindungssicherheit „SSL/TLS“, Authentifizierungsmethode „Passwort, normal“, Benutzername {username}.",
                "Tragen Sie unter „POSTAUSGANGS-SERVER“ ein: Hostname {smtp_host}, Port {smtp_port}, Verbindungssicherheit „SSL/TLS“, Authentifizierungsmethode „Passwort, normal“, Benutzername {username}.",
                "Klicken Sie auf „Erneut testen“. Meldet Thunderbird, dass die Einstellungen gefunden wurden, klicken Sie auf „Fertig“.",
                "Möchten Sie lieber POP3 nutzen (Nachrichten werden heruntergeladen und vom Server entfernt), wählen Sie in Schritt 3 „POP3“ mit Hostname {pop3_host} und Port {pop3_port}, ebenfalls „SSL/TLS“.",
                "Senden Sie sich eine Testnachricht, um Empfang und Versand zu prüfen.",
            ],
        },
        Client::Outlook => GuideText {
            title: "{address} in Outlook einrichten",
            steps: &[
                "Wählen Sie in Outlook „Datei“ → „Konto hinzufügen“.",
                "Geben Sie die E-Mail-Adresse {address} ein, öffnen Sie „Erweiterte Optionen“, setzen Sie den Haken bei „Ich möchte mein Konto manuell einrichten“ und klicken Sie auf „Verbinden“.",
                "Wählen Sie als Kontotyp „IMAP“.",
                "Eingehende E-Mail: Server {imap_host}, Port {imap_port}, Verschlüsselungsmethode „SSL/TLS“; „Anmeldung mithilfe der gesicherten Kennwortauthentifizierung (SPA) erforderlich“ bleibt ausgeschaltet.",
                "Ausgehende E-Mail: Server {smtp_host}, Port {smtp_port}, Verschlüsselungsmethode „SSL/TLS“; SPA bleibt ausgeschaltet. Klicken Sie auf „Weiter“.",
                "Geben Sie das Passwort des Postfachs ein und klicken Sie auf „Verbinden“. Outlook meldet sich mit der vollständigen Adresse {username} als Benutzername an.",
                "Klicken Sie auf „Fertig“. Für POP3 wählen Sie in Schritt 3 „POP“ mit Server {pop3_host} und Port {pop3_port}, ebenfalls „SSL/TLS“.",
            ],
        },
        Client::AppleMail => GuideText {
            title: "{address} in Apple Mail (macOS) einrichten",
            steps: &[
                "Öffnen Sie Mail und wählen Sie „Mail“ → „Account hinzufügen …“, dann „Anderer Mail-Account …“ und „Fortfahren“.",
                "Geben Sie Ihren Namen, die E-Mail-Adresse {address} und das Passwort des Postfachs ein und klicken Sie auf „Anmelden“.",
                "Meldet Mail „Accountname oder Passwort kann nicht überprüft werden“, tragen Sie ein: Benutzername {username}, Accounttyp „IMAP“, Server für eintreffende E-Mails {imap_host}, Server für ausgehende E-Mails {smtp_host}; klicken Sie auf „Anmelden“.",
                "Wählen Sie die Apps für den Account („Mail“) und klicken Sie auf „Fertig“.",
                "Öffnen Sie „Mail“ → „Einstellungen …“ → „Accounts“, wählen Sie den Account und den Bereich „Servereinstellungen“.",
                "Server für eintreffende E-Mails (IMAP): „Verbindungseinstellungen automatisch verwalten“ ausschalten, Port {imap_port} eintragen und „TLS/SSL verwenden“ einschalten.",
                "Server für ausgehende E-Mails (SMTP): „Verbindungseinstellungen automatisch verwalten“ ausschalten, Port {smtp_port} eintragen, „TLS/SSL verwenden“ einschalten, Authentifizierung „Passwort“ wählen und mit „Sichern“ bestätigen.",
            ],
        },
        Client::Ios => GuideText {
            title: "{address} auf iPhone und iPad einrichten",
            steps: &[
                "Öffnen Sie „Einstellungen“ → „Mail“ → „Accounts“ → „Account hinzufügen“ (ab iOS 18: „Einstellungen“ → „Apps“ → „Mail“ → „Mail-Accounts“ → „Account hinzufügen“) und wählen Sie „Andere“ → „Mail-Account hinzufügen“.",
                "Geben Sie Ihren Namen, die E-Mail-Adresse {address}, das Passwort des Postfachs und eine Beschreibung ein und tippen Sie auf „Weiter“.",
                "Wählen Sie oben „IMAP“. Tragen Sie unter „Server für eintreffende E-Mails“ Hostname {imap_host}, Benutzername {username} und das Passwort ein.",
                "Tragen Sie unter „Server für ausgehende E-Mails“ Hostname {smtp_host}, Benutzername {username} und das Passwort ein; tippen Sie auf „Weiter“ und „Sichern“.",
                "Öffnen Sie den neuen Account erneut, tippen Sie auf „Account“ → „Erweitert“ und prüfen Sie unter „Eintreffende Einstellungen“: „SSL verwenden“ eingeschaltet, „Serverport“ {imap_port}.",
                "Tippen Sie zurück unter „Account“ auf „SMTP“ → den primären Server {smtp_host}: „SSL verwenden“ einschalten, „Serverport“ {smtp_port}, „Authentifizierung“ „Passwort“; tippen Sie auf „Fertig“.",
            ],
        },
        Client::Android => GuideText {
            title: "{address} unter Android (Gmail-App) einrichten",
            steps: &[
                "Öffnen Sie die Gmail-App und tippen Sie auf Ihr Profilbild → „Weiteres Konto hinzufügen“ → „Andere“.",
                "Geben Sie die E-Mail-Adresse {address} ein und tippen Sie auf „Manuelle Einrichtung“.",
                "Wählen Sie den Kontotyp „Privat (IMAP)“, geben Sie das Passwort des Postfachs ein und tippen Sie auf „Weiter“.",
                "Einstellungen des Eingangsservers: Nutzername {username}, Server {imap_host}, Port {imap_port}, Sicherheitstyp „SSL/TLS“; tippen Sie auf „Weiter“.",
                "Einstellungen des Ausgangsservers: „Anmeldung erforderlich“ eingeschaltet lassen, Nutzername {username}, SMTP-Server {smtp_host}, Port {smtp_port}, Sicherheitstyp „SSL/TLS“; tippen Sie auf „Weiter“.",
                "Wählen Sie die Synchronisierungshäufigkeit, tippen Sie auf „Weiter“, geben Sie den Namen ein, den Empfänger sehen sollen, und tippen Sie erneut auf „Weiter“.",
                "Andere E-Mail-Apps (etwa Samsung E-Mail) fragen nach denselben Werten: IMAP {imap_host} Port {imap_port} und SMTP {smtp_host} Port {smtp_port}, jeweils mit SSL/TLS und der vollständigen Adresse als Benutzername.",
            ],
        },
    }
}
