use crate::config::RelabelConfig;
use crate::model::Labels;
pub fn relabel(l: &Labels, _: &[RelabelConfig]) -> Option<Labels> {
    Some(l.clone())
}
