from . import social_identity_link_wizard
from . import social_reply_wizard
from . import social_reply_wizard_param
from . import helpdesk_rule_try_wizard
from . import social_account_backfill_wizard
from . import social_account_setup_credentials
from . import social_account_setup_wizard
