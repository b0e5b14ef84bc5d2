//! Relative file names in a loaded config are relative to the config file's directory, as
//! in Prometheus (`resolveFilepaths`), so the process's working directory does not matter.

use std::path::Path;

use super::http::{Authorization, BasicAuth, HttpClientConfig, OAuth2, TlsConfig};
use super::sd::{FileSdConfig, HttpSdConfig};
use super::Config;

/// Rewrites every relative file name in `config` to be under `dir`.
pub(crate) fn resolve(config: &mut Config, dir: &Path) {
    let r = Resolver { dir };
    config.rule_files.iter_mut().for_each(|p| r.path(p));
    config
        .scrape_config_files
        .iter_mut()
        .for_each(|p| r.path(p));
    for sc in &mut config.scrape_configs {
        r.auth(
            &mut sc.basic_auth,
            &mut sc.authorization,
            &mut sc.oauth2,
            &mut sc.tls_config,
        );
        r.discovery(&mut sc.file_sd_configs, &mut sc.http_sd_configs);
    }
    if let Some(alerting) = &mut config.alerting {
        for am in &mut alerting.alertmanagers {
            r.http(&mut am.http_client);
            r.discovery(&mut am.file_sd_configs, &mut am.http_sd_configs);
        }
    }
    for rw in &mut config.remote_write {
        r.http(&mut rw.http_client);
    }
    for rr in &mut config.remote_read {
        r.http(&mut rr.http_client);
    }
}

struct Resolver<'a> {
    dir: &'a Path,
}

impl Resolver<'_> {
    fn path(&self, p: &mut String) {
        if !p.is_empty() && Path::new(p.as_str()).is_relative() {
            *p = self.dir.join(p.as_str()).display().to_string();
        }
    }

    fn opt(&self, p: &mut Option<String>) {
        if let Some(p) = p {
            self.path(p);
        }
    }

    fn tls(&self, tls: &mut Option<TlsConfig>) {
        if let Some(t) = tls {
            self.opt(&mut t.ca_file);
            self.opt(&mut t.cert_file);
            self.opt(&mut t.key_file);
        }
    }

    fn auth(
        &self,
        basic: &mut Option<BasicAuth>,
        authz: &mut Option<Authorization>,
        oauth2: &mut Option<OAuth2>,
        tls: &mut Option<TlsConfig>,
    ) {
        if let Some(b) = basic {
            self.opt(&mut b.password_file);
        }
        if let Some(a) = authz {
            self.opt(&mut a.credentials_file);
        }
        if let Some(o) = oauth2 {
            self.opt(&mut o.client_secret_file);
            self.tls(&mut o.tls_config);
        }
        self.tls(tls);
    }

    fn http(&self, h: &mut HttpClientConfig) {
        self.auth(
            &mut h.basic_auth,
            &mut h.authorization,
            &mut h.oauth2,
            &mut h.tls_config,
        );
    }

    fn discovery(&self, files: &mut [FileSdConfig], http: &mut [HttpSdConfig]) {
        for sd in files {
            sd.files.iter_mut().for_each(|p| self.path(p));
        }
        for sd in http {
            self.http(&mut sd.http_client);
        }
    }
}
