package loggen

import (
	"fmt"
	"strconv"
)

// Class ids of detection.md that the generator produces.
const (
	classAuthPassword     = "exchange.auth.password"
	classAuthOAuthExpired = "exchange.auth.oauth_expired"
	classSnapshotLimit    = "engine.snapshot_limit"
	classEWSNotFound      = "exchange.ews.not_found"
	classEWSForbidden     = "exchange.ews.forbidden"
	classXMLTruncated     = "exchange.xml.truncated"
	classOrgRemoval       = "exchange.org.marked_for_removal"
	classServerUnsupp     = "exchange.server.unsupported"
	classC4CInternal      = "c4c.server.internal_error"
	classRecordTooLarge   = "record.too_large"
	classRecordMandatory  = "record.mandatory_field"
	classRecordNotFound   = "record.not_found"
	classRecordConflict   = "record.conflict"
	classUnknown          = "unknown"
	classRecordUnknown    = "record.unknown"
)

// alwaysTotal reports whether a class opens a sync_error at first sight.
func alwaysTotal(class string) bool {
	switch class {
	case classAuthPassword, classAuthOAuthExpired, classSnapshotLimit, classEWSNotFound,
		classOrgRemoval, classServerUnsupp:
		return true
	}
	return false
}

// wording is one set of message texts. Set 0 is the catalog's; set 1 a
// paraphrase of each (documented in doc.go).
type wording struct {
	authPasswordErr, authPasswordWarn string
	authOAuthErr, authOAuthWarn       string
	snapshot                          string // fmt with limit/actual/third
	notFound                          string
	notFoundStack                     []string
	forbidden                         string
	forbiddenStack                    []string
	xml                               string
	xmlStack                          []string
	org                               string // fmt with the organization
	unsupported                       string // fmt with the server
	c4c500                            string
	tooLarge                          string
	mandatory                         string // fmt with the field
	recNotFound                       string
	conflict                          string
}

var wordings = [2]wording{
	{
		authPasswordErr:  "Authentication error",
		authPasswordWarn: "Synchronization was disabled due to restricted access to your mailbox. Probably your e-mail password was changed",
		authOAuthErr:     "Authentication error – OAuthRefreshToken might have expired",
		authOAuthWarn:    "Synchronization was disabled due to restricted access to your mailbox.",
		snapshot:         "A limit on the number of snapshot records is exceeded (%d/%d/%d)",
		notFound:         "Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.",
		notFoundStack: []string{
			"System.Net.WebException: The remote server returned an error: (404) Not Found.",
			"   at System.Net.HttpWebRequest.GetResponse()",
			"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()",
		},
		forbidden: "Unexpected Exchange error: The remote server returned an error: (403) Forbidden.",
		forbiddenStack: []string{
			"System.Net.WebException: The remote server returned an error: (403) Forbidden.",
			"   at System.Net.HttpWebRequest.GetResponse()",
			"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()",
		},
		xml: "Unexpected Exchange error: The XML document ended unexpectedly.",
		xmlStack: []string{
			"System.Xml.XmlException: Unexpected end of file has occurred. Line 1, position 8192.",
			"   at System.Xml.XmlTextReaderImpl.Throw(Exception e)",
			"   at Microsoft.Exchange.WebServices.Data.EwsXmlReader.Read()",
		},
		org:         "Unexpected Exchange error: Organization \"%s\" is marked for removal.",
		unsupported: "Unexpected Exchange error: Unsupported property field URI type. Server: %s",
		c4c500:      "Remote server returned an error: (500) Internal server error",
		tooLarge:    "The item exceeds the maximum allowed size",
		mandatory:   "Mandatory field %s is missing",
		recNotFound: "The specified object was not found in the store.",
		conflict:    "Update conflict: the item was changed by another client",
	},
	{
		authPasswordErr:  "Authentication failed",
		authPasswordWarn: "Sync has been disabled because access to the mailbox is restricted. The e-mail password has probably been changed",
		authOAuthErr:     "Authentication failed: the OAuth refresh token has probably expired",
		authOAuthWarn:    "Sync has been disabled because access to the mailbox is restricted.",
		snapshot:         "Snapshot record limit exceeded (%d/%d/%d)",
		notFound:         "Exchange error: EWS request failed with HTTP 404 (Not Found).",
		notFoundStack: []string{
			"System.Net.WebException: HTTP 404 (Not Found).",
			"   at System.Net.HttpWebRequest.GetResponse()",
			"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()",
		},
		forbidden: "Exchange error: EWS request failed with HTTP 403 (Forbidden).",
		forbiddenStack: []string{
			"System.Net.WebException: HTTP 403 (Forbidden).",
			"   at System.Net.HttpWebRequest.GetResponse()",
			"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()",
		},
		xml: "Exchange error: XML stream ended prematurely.",
		xmlStack: []string{
			"System.Xml.XmlException: Premature end of XML stream. Line 1, position 8192.",
			"   at System.Xml.XmlTextReaderImpl.Throw(Exception e)",
			"   at Microsoft.Exchange.WebServices.Data.EwsXmlReader.Read()",
		},
		org:         "Exchange error: The organization \"%s\" has been marked for removal.",
		unsupported: "Exchange error: Property field URI type not supported by the server. Server: %s",
		c4c500:      "HTTP 500 Internal Server Error returned by the remote server",
		tooLarge:    "Item is larger than the maximum allowed size",
		mandatory:   "Required field %s is missing",
		recNotFound: "Object not found in the store.",
		conflict:    "Conflict on update: item was modified by another client",
	},
}

// Generic engine messages: the effect of a failure, never its cause.
const (
	msgConnectorFailed = "Exchange connector failed"
	msgAccessDenied    = "Mailbox access denied by connector"
)

// Noise and transient (retried) messages.
const (
	msgBusy           = "Server busy (429), retrying after 2000 ms"
	msgExTimeout      = "The operation has timed out"
	msgC4CGateway     = "Gateway timeout after 30000 ms"
	msgRecordPushed   = "record pushed"
	msgC4CSessionOpen = "C4C session established (batch size 50)"
)

var mandatoryFields = []string{"Subject", "OwnerID", "StartDateTime"}

var servers = []string{"Kerio Connect 9.0.3", "Kerio Connect 9.0.3", "Kerio Connect 9.2.1", "Kerio Connect 8.5.2", "IceWarp Server 13.0.2"}

var orgRegions = []string{"AUSPR01A", "EURPR05A", "NAMPR12A", "APCPR03A"}

func orgName(r *rng) string {
	reg := pick(r, orgRegions) + fmt.Sprintf("%03d", r.intn(1000))
	n := r.between(1000, 9999)
	return fmt.Sprintf("%s.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/%d.onmicrosoft.com - %s.PROD.OUTLOOK.COM/ConfigurationUnits/%d.onmicrosoft.com/Configuration", reg, n, reg, n)
}

// Unknown total failures (class "unknown"): messages no catalog knows.
// Each variant is reported by one producer.
const (
	unkSSL = iota
	unkBadGateway
	unkDNS
	unkDBDismounted
	unkStateStore
	unkMaintenance
	numUnknownTotal
)

// unknownTotal returns the variant's message; stack is its trace
// (ExchangeConnector only).
func unknownTotal(v int, mb *mailbox, r *rng) (msg string, stack []string) {
	switch v {
	case unkSSL:
		return "Unexpected Exchange error: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
			[]string{
				"System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
				"   at System.Net.HttpWebRequest.GetResponse()",
				"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()",
			}
	case unkBadGateway:
		return "Unexpected Exchange error: The request failed. The remote server returned an error: (502) Bad Gateway.", nil
	case unkDNS:
		return "Unexpected Exchange error: The remote name could not be resolved: 'mail." + mb.domain + "'", nil
	case unkDBDismounted:
		return "Unexpected Exchange error: Mailbox database 'DB" + strconv.Itoa(r.between(1000, 9999)) + "' is dismounted.", nil
	case unkStateStore:
		return fmt.Sprintf("State store unavailable: dial tcp 10.%d.%d.%d:5432: connect: connection refused", r.intn(256), r.intn(256), r.between(1, 254)), nil
	default: // unkMaintenance (a C4CC session error, no record)
		return "Service unavailable: tenant my" + strconv.Itoa(mb.tenantNum) + " is in maintenance mode", nil
	}
}

// Unknown per-record failures (class "record.unknown").
const (
	recUnkInvalidDate = iota
	recUnkCurrency
	recUnkRecurrence
	recUnkDuplicateKey
	recUnkAttachment
	numUnknownRecord
)
