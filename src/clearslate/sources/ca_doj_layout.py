"""The California DOJ research-file layout (95 columns, A to CQ).

Source: ../shared/reference/gogen-behaviour.md section 2.2. The order is the file's order; a
record must have exactly this many fields.
"""

DOJ_COLUMNS: tuple[str, ...] = (
    "RECORD_ID", "SUBJECT_STATUS", "SUBJECT_ID", "REQ_SEG_SEP", "REQ_CII_NUMBER", "REQ_NAME",
    "REQ_GENDER", "REQ_DOB", "REQ_CDL", "REQ_SSN", "PII_SEG_SEP", "CII_NUMBER", "PRI_NAME",
    "GENDER", "PRI_DOB", "PRI_SSN", "PRI_CDL", "PRI_IDN", "PRI_INN", "FBI_NUMBER", "PDR_SEG_SEP",
    "RACE_CODE", "RACE_DESCR", "EYE_COLOR_CODE", "EYE_COLOR_DESCR", "HAIR_COLOR_CODE",
    "HAIR_COLOR_DESCR", "HEIGHT", "WEIGHT", "SINGLE_SOURCE", "MULTI_SOURCE", "POB_CODE",
    "POB_NAME", "POB_TYPE", "CITIZENSHIP_LIST", "CYC_SEG_SEP", "CYC_ORDER", "CYC_DATE",
    "STP_SEG_SEP", "STP_ORDER", "STP_EVENT_DATE", "STP_TYPE_CODE", "STP_TYPE_DESCR",
    "STP_ORI_TYPE", "STP_ORI_TYPE_DESCR", "STP_ORI_CODE", "STP_ORI_DESCR", "STP_ORI_CNTY_CODE",
    "STP_ORI_CNTY_NAME", "CNT_SEG_SEP", "CNT_ORDER", "DISP_DATE", "OFN", "OFFENSE_CODE",
    "OFFENSE_DESCR", "OFFENSE_TOC", "OFFENSE_QUAL_LST", "DISP_OFFENSE_CODE",
    "DISP_OFFENSE_DESCR", "DISP_OFFENSE_TOC", "DISP_OFFENSE_QUAL_LST", "CONV_OFFENSE_ORDER",
    "CONV_OFFENSE_CODE", "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC", "CONV_OFFENSE_QUAL_LST",
    "FE_NUM_ORDER", "FE_NUM_ARR_AGY", "FE_NUM_BNCH_WARR", "FE_NUM_CITE", "FE_NUM_DOCKET",
    "FE_NUM_INCIDENT", "FE_NUM_BOOKING", "FE_NUM_NUMBER", "FE_NUM_REMAND", "FE_NUM_OOS_INN",
    "FE_NUM_CRT_CASE", "FE_NUM_WARRANT", "DISP_ORDER", "DISP_CODE", "DISP_DESCR",
    "CONV_STAT_CODE", "CONV_STAT_DESCR", "SENT_SEG_SEP", "SENT_ORDER", "SENT_LOC_CODE",
    "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "SENT_TIME_DESCR", "CYC_AGE", "CII_TYPE",
    "CII_TYPE_ALPHA", "COMMENT_TEXT", "END_OF_REC",
)  # fmt: skip
assert len(DOJ_COLUMNS) == 95

# The 20 DOJ columns of gogen's All_Results_Condensed file, in order (gogen-behaviour.md 4.1).
CONDENSED_COLUMNS: tuple[str, ...] = (
    "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "RACE_DESCR", "CYC_DATE", "STP_EVENT_DATE",
    "STP_ORI_DESCR", "STP_ORI_CNTY_NAME", "DISP_DATE", "OFN", "OFFENSE_DESCR", "DISP_DESCR",
    "CONV_STAT_DESCR", "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE",
    "COMMENT_TEXT", "END_OF_REC",
)  # fmt: skip

# gogen's 18 eligibility columns, in order (gogen-behaviour.md 4.2).
ELIGIBILITY_COLUMNS: tuple[str, ...] = (
    "Case Number", "# of convictions on record", "Possible Other P64 Charges",
    "Occurred after 11/9/2016", "Superstrike Code Section(s)", "PC290 Code Section(s)",
    "PC290 Registration", "Date of Conviction", "Years Since This Conviction",
    "Years Since Any Conviction", "# of Prop 64 convictions", "# of HS 11357 convictions",
    "# of HS 11358 convictions", "# of HS 11359 convictions", "# of HS 11360 convictions",
    "Deceased", "Eligibility Determination", "Eligibility Reason",
)  # fmt: skip

HEADER_MARKER = "RECORD_ID"
