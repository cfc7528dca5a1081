//! Server-rendered pages: minijinja templates embedded in the binary, with the `t()` text lookup.

use axum::response::Html;
use hostwerk_domain::Language;
use minijinja::{Environment, State, Value};

use crate::error::PageError;

macro_rules! templates {
    ($env:ident, $($name:literal),+ $(,)?) => {
        $( if let Err(e) = $env.add_template($name, include_str!(concat!("../templates/", $name))) {
            tracing::error!(template = $name, error = %e, "template does not compile");
        } )+
    };
}

/// The template environment.
pub(crate) struct Views {
    env: Environment<'static>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Views")
    }
}

fn lang_of(state: &State) -> Language {
    state.lookup("lang").and_then(|v| v.as_str().and_then(|s| Language::parse(s).ok())).unwrap_or_default()
}

impl Views {
    pub fn new() -> Self {
        let mut env = Environment::new();
        templates!(
            env,
            "base.html",
            "case_timeline.html",
            "home.html",
            "login.html",
            "order.html",
            "order_done.html",
            "reminder.html",
            "reset.html",
            "menu/nav.html",
            "menu/dashboard.html",
            "menu/contract.html",
            "menu/profile.html",
            "menu/password.html",
            "menu/phone.html",
            "menu/service.html",
            "menu/server.html",
            "menu/backups.html",
            "menu/backups_browse.html",
            "menu/mailbox.html",
            "menu/mail_guide.html",
            "menu/domain.html",
            "menu/case.html",
            "remote.html",
            "staff/nav.html",
            "staff/login.html",
            "staff/home.html",
            "staff/customer.html",
            "staff/call.html",
            "staff/staff_users.html",
            "staff/tariffs.html",
            "staff/nodes.html",
            "staff/outbox.html",
            "staff/audit.html",
            "staff/cases.html",
            "staff/case.html",
            "staff/remote.html",
            "staff/blog.html",
            "staff/backups.html",
            "staff/backups_plan.html",
            "staff/backups_customer.html",
            "blog/index.html",
            "blog/post.html",
            "blog/feed.xml",
        );
        env.add_function("t", |state: &State, key: &str| -> Value { crate::i18n::t_value(lang_of(state), key) });
        Self { env }
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<Html<String>, PageError> {
        let template = self.env.get_template(name).map_err(|e| PageError::Internal(format!("template {name}: {e}")))?;
        template.render(ctx).map(Html).map_err(|e| PageError::Internal(format!("rendering {name}: {e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let views = Views::new();
        for t in views.env.templates() {
            assert!(views.env.get_template(t.0).is_ok(), "{}", t.0);
        }
        assert!(views.env.templates().count() >= 21);
    }
}
