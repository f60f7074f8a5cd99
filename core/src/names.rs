//! The names of the unit enums that settings, reports and traces write (`renewal`,
//! `over-budget`, `all-done`, ...): one table per enum, read back by the runtime's trace replay
//! and by the firmware's build script.

/// Implements, from one `Variant => "name"` table, `ALL` (every value in table order), the
/// `const fn name` and `from_name` for the unit enum `$ty`.
macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            #[doc = concat!("Its name in settings, reports and traces:", $(" `", $name, "`"),+, ".")]
            pub const fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// The value named `name`, if any.
            pub fn from_name(name: &str) -> Option<$ty> {
                $ty::ALL.into_iter().find(|v| v.name() == name)
            }
        }
    };
}

pub(crate) use named;
