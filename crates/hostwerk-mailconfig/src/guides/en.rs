//! The English guide texts.

use super::{Client, GuideText};

pub(super) fn guide(client: Client) -> GuideText {
    match client {
        Client::Thunderbird => GuideText {
            title: "Set up {address} in Thunderbird",
            steps: &[
                "Open Thunderbird and choose ☰ (the application menu) → “Account Settings” → “Account Actions” → “Add Mail Account…”.",
                "Enter your name, the email address {address} and the mailbox password, then click “Configure manually”.",
                "Under “INCOMING SERVER” choose the protocol “IMAP” and enter: Hostname {imap_host}, Port {imap_port}, Connection security “SSL/TLS”, Authentication method “Normal password”, Username {username}.",
                "Under “OUTGOING SERVER” enter: Hostname {smtp_host}, Port {smtp_port}, Connection security “SSL/TLS”, Authentication method “Normal password”, Username {username}.",
                "Click “Re-test”. When Thunderbird reports that the settings were found, click “Done”.",
                "If you prefer POP3 (messages are downloaded and removed from the server), choose “POP3” in step 3 instead, with Hostname {pop3_host} and Port {pop3_port}, again “SSL/TLS”.",
                "Send yourself a test message to check receiving and sending.",
            ],
        },
        Client::Outlook => GuideText {
            title: "Set up {address} in Outlook",
            steps: &[
                "In Outlook choose “File” → “Add Account”.",
                "Enter the email address {address}, open “Advanced options”, tick “Let me set up my account manually” and click “Connect”.",
                "Choose “IMAP” as the account type.",
                "Incoming mail: Server {imap_host}, Port {imap_port}, Encryption method “SSL/TLS”; leave “Require logon using Secure Password Authentication (SPA)” unticked.",
                "Outgoing mail: Server {smtp_host}, Port {smtp_port}, Encryption method “SSL/TLS”; leave SPA unticked and click “Next”.",
                "Enter the mailbox password and click “Connect”. Outlook signs in with the full address {username} as user name.",
                "Click “Done”. For POP3 choose “POP” in step 3 instead, with Server {pop3_host} and Port {pop3_port}, again “SSL/TLS”.",
            ],
        },
        Client::AppleMail => GuideText {
            title: "Set up {address} in Apple Mail (macOS)",
            steps: &[
                "Open Mail and choose “Mail” → “Add Account…”, select “Other Mail Account…” and click “Continue”.",
                "Enter your name, the email address {address} and the mailbox password, then click “Sign In”.",
                "When Mail reports “Unable to verify account name or password”, enter: User Name {username}, Account Type “IMAP”, Incoming Mail Server {imap_host}, Outgoing Mail Server {smtp_host}; click “Sign In”.",
                "Choose the apps to use with the account (“Mail”) and click “Done”.",
                "Open “Mail” → “Settings…” → “Accounts”, select the account and open the “Server Settings” tab.",
                "Incoming Mail Server (IMAP): untick “Automatically manage connection settings”, set Port {imap_port} and tick “Use TLS/SSL”.",
                "Outgoing Mail Server (SMTP): untick “Automatically manage connection settings”, set Port {smtp_port}, tick “Use TLS/SSL”, choose Authentication “Password” and click “Save”.",
            ],
        },
        Client::Ios => GuideText {
            title: "Set up {address} on iPhone and iPad",
            steps: &[
                "Open “Settings” → “Mail” → “Accounts” → “Add Account” (from iOS 18: “Settings” → “Apps” → “Mail” → “Mail Accounts” → “Add Account”) and choose “Other” → “Add Mail Account”.",
                "Enter your name, the email address {address}, the mailbox password and a description, then tap “Next”.",
                "Choose “IMAP” at the top. Under “Incoming Mail Server” enter Host Name {imap_host}, User Name {username} and the password.",
                "Under “Outgoing Mail Server” enter Host Name {smtp_host}, User Name {username} and the password, then tap “Next” and “Save”.",
                "Open the new account again, tap “Account” → “Advanced” and check under “Incoming Settings”: “Use SSL” on, “Server Port” {imap_port}.",
                "Back under “Account”, tap “SMTP” → the primary server {smtp_host}: “Use SSL” on, “Server Port” {smtp_port}, “Authentication” “Password”; tap “Done”.",
            ],
        },
        Client::Android => GuideText {
            title: "Set up {address} on Android (Gmail app)",
            steps: &[
                "Open the Gmail app, tap your profile picture → “Add another account” → “Other”.",
                "Enter the email address {address} and tap “Manual setup”.",
                "Choose the account type “Personal (IMAP)”, enter the mailbox password and tap “Next”.",
                "Incoming server settings: Username {username}, Server {imap_host}, Port {imap_port}, Security type “SSL/TLS”; tap “Next”.",
                "Outgoing server settings: keep “Require sign-in” on, Username {username}, SMTP server {smtp_host}, Port {smtp_port}, Security type “SSL/TLS”; tap “Next”.",
                "Choose how often to sync, tap “Next”, enter the name shown to recipients and tap “Next” again.",
                "Other mail apps (such as Samsung Email) ask for the same values: IMAP {imap_host} port {imap_port} and SMTP {smtp_host} port {smtp_port}, each with SSL/TLS and the full address as user name.",
            ],
        },
    }
}
