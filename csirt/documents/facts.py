"""CaseFacts: the read-only snapshot of what may be made public about a case.

Builders see nothing else: no session, no sealed data, no reporter. Datetimes are timezone-aware
(UTC in the database); documents show them in `CaseFacts.timezone`. A day-precision event is
shown as the calendar day of its instant in that zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

LANGS = ("ja", "en")


class Precision(StrEnum):
    """How precisely the time of a public event is known."""

    DAY = "day"
    MINUTE = "minute"


class MeasureStatus(StrEnum):
    """Progress of a recurrence-prevention measure."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class PpcStage(StrEnum):
    """The regulator report is sent twice: promptly (速報) and within 30/60 days (確報)."""

    PRELIMINARY = "preliminary"
    FINAL = "final"


@dataclass(frozen=True)
class ContactPoint:
    """The organisation's public contact point (allowed in every public text)."""

    department: str
    phone: str
    email: str


@dataclass(frozen=True)
class Organisation:
    """The organisation that publishes the documents."""

    name: str
    department: str
    contact: ContactPoint
    public_body: bool = True


@dataclass(frozen=True)
class StaffMisconduct:
    """What a press release says about a staff member who caused the incident."""

    department: str
    post: str
    age: int | None = None


@dataclass(frozen=True)
class PublicEvent:
    """One event of the public timeline."""

    occurred_at: datetime
    precision: Precision
    title: str
    description: str = ""


class DataItem(NamedTuple):
    """One personal-data item of a data set, labelled in both languages."""

    key: str
    label_ja: str
    label_en: str


@dataclass(frozen=True)
class DataSet:
    """A leaked (or possibly leaked) data set with its items and number of persons."""

    name: str
    holder_department: str
    items: tuple[DataItem, ...]
    persons: int
    persons_estimated: bool = False
    exposure: str = ""


@dataclass(frozen=True)
class Responses:
    """What has been done towards the persons, the copies online and the police."""

    notice_to_individuals: str = ""
    takedown: str = ""
    police: str = ""


@dataclass(frozen=True)
class Measure:
    """A recurrence-prevention measure and the evidence of its effect."""

    title: str
    owner: str
    due: date | None
    status: MeasureStatus
    evidence: str = ""


@dataclass(frozen=True)
class Recommendation:
    """A numbered recommendation of the committee and who owns it."""

    number: int
    text: str
    owner: str
    title: str = ""


@dataclass(frozen=True)
class CommitteeMember:
    """A member of the investigation committee."""

    name: str
    affiliation: str
    role: str = ""


@dataclass(frozen=True)
class Committee:
    """The (third-party) investigation committee."""

    name: str
    mandate: str
    members: tuple[CommitteeMember, ...]
    independence: str
    scope: str
    method: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class Obligation:
    """A legal or internal obligation from triage, with its due and done times."""

    kind: str
    due: datetime
    done_at: datetime | None = None
    label: str = ""


@dataclass(frozen=True)
class TriageSummary:
    """The public part of the triage: priority and obligations."""

    priority: str
    obligations: tuple[Obligation, ...] = ()


@dataclass(frozen=True)
class CaseFacts:
    """Everything about a case that may appear in a public document, and nothing else."""

    organisation: Organisation
    case_reference: str
    title: str
    summary: str
    aware_at: datetime
    first_report_at: datetime | None
    document_date: date
    lang: str = "ja"
    timezone: str = "Asia/Tokyo"
    first_contact_with_reporter_at: datetime | None = None
    staff: StaffMisconduct | None = None
    events: tuple[PublicEvent, ...] = ()
    data_sets: tuple[DataSet, ...] = ()
    causes: tuple[str, ...] = ()
    responses: Responses = field(default_factory=Responses)
    secondary_damage: str = ""
    measures: tuple[Measure, ...] = ()
    findings: tuple[str, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    committee: Committee | None = None
    triage: TriageSummary | None = None
    ppc_stage: PpcStage = PpcStage.PRELIMINARY
    publication: str = ""
    other_notes: str = ""

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, not {self.lang!r}")
        ZoneInfo(self.timezone)  # fail early on an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        """The zone in which the documents show dates and times."""
        return ZoneInfo(self.timezone)

    @property
    def total_persons(self) -> int:
        """Sum of persons over all data sets."""
        return sum(ds.persons for ds in self.data_sets)

    @property
    def total_estimated(self) -> bool:
        """True when any data set's number of persons is an estimate."""
        return any(ds.persons_estimated for ds in self.data_sets)

    @property
    def days_to_first_contact(self) -> int | None:
        """Calendar days (in the document's zone) from the first report to the first contact."""
        if self.first_report_at is None or self.first_contact_with_reporter_at is None:
            return None
        first = self.first_report_at.astimezone(self.zone).date()
        contact = self.first_contact_with_reporter_at.astimezone(self.zone).date()
        return (contact - first).days

    @property
    def timeline(self) -> tuple[PublicEvent, ...]:
        """The public events in time order."""
        return tuple(sorted(self.events, key=lambda e: e.occurred_at))

    @classmethod
    def demo(cls, lang: str = "ja") -> CaseFacts:
        """The founding case (Sakai city, 2015) as public facts, for tests and previews."""
        return _sakai_facts(lang)


# --- The founding case, Sakai city 2015 (../shared/seed/sakai-incident-2015.txt) -------------
# Numbers are the city's published figures. Contact details, committee member names and the
# exact day of the first contact with the tipster (about three months after the tip, per the
# committee) are placeholders. The APPI obligations did not exist in 2015: they show how the
# case would be judged today.

_JST = timezone(timedelta(hours=9))


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=_JST).astimezone(UTC)


def _item(key: str) -> DataItem:
    return DataItem(key, *_ITEM_LABELS[key])


_ITEM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("氏名", "name"),
    "sex": ("性別", "sex"),
    "birth_date": ("生年月日", "date of birth"),
    "address": ("住所", "address"),
    "phone": ("電話番号", "phone number"),
    "hire_date": ("入社日", "date of hire"),
    "school": ("在学学校名", "school attended"),
    "salary": ("給与実績データ", "salary records"),
    "age": ("年齢", "age"),
    "postal_vote": ("郵便投票資格者証の区分", "postal-vote certificate class"),
    "disability": (
        "身体障害者手帳等の番号・等級・障害名",
        "disability certificate number, grade and disability",
    ),
    "delivery_address": ("送付先住所", "delivery address"),
    "proxy": ("代理記載人の氏名・生年月日・電話番号", "proxy writer's name, birth date, phone"),
    "school_name": ("学校名", "school"),
    "grade": ("学年", "school year"),
}


def _sakai_facts(lang: str) -> CaseFacts:
    ja = lang == "ja"

    def t(ja_text: str, en_text: str) -> str:
        return ja_text if ja else en_text

    org = Organisation(
        name=t("堺市", "Sakai City"),
        department=t("総務局 人事部 人事課", "General Affairs Bureau, Personnel Division"),
        contact=ContactPoint(
            department=t("総務局 人事部 人事課", "Personnel Division"),
            phone="072-000-0000",
            email="jinji@city.example.lg.jp",
        ),
    )
    rental = t(
        "2015年4月から6月まで、当該職員が個人で契約した民間レンタルサーバー上でインターネットから"
        "閲覧可能な状態にあった",
        "Readable from the internet on a private rental server contracted by the employee, "
        "April to June 2015",
    )
    data_sets = (
        DataSet(
            t(
                "選挙人名簿（平成23年大阪府知事選挙時の市内全有権者）",
                "Electoral roll (all voters of the city, 2011 Osaka governor election)",
            ),
            t("北区選挙管理委員会事務局", "Kita Ward Election Administration Commission"),
            tuple(_item(k) for k in ("name", "sex", "birth_date", "address")),
            680_000,
            persons_estimated=True,
            exposure=rental,
        ),
        DataSet(
            t(
                "放課後児童対策事業所の短時間勤務職員",
                "Part-time staff of after-school childcare centres",
            ),
            t(
                "（公財）堺市教育スポーツ振興事業団",
                "Sakai Education and Sports Promotion Foundation",
            ),
            tuple(
                _item(k)
                for k in (
                    "name",
                    "sex",
                    "birth_date",
                    "address",
                    "phone",
                    "hire_date",
                    "school",
                    "salary",
                )
            ),
            1_000,
            persons_estimated=True,
            exposure=rental,
        ),
        DataSet(
            t("アルバイト応募者", "Applicants for part-time jobs"),
            t("（公財）堺市産業振興センター", "Sakai Industrial Promotion Center"),
            tuple(_item(k) for k in ("name", "age", "address", "phone")),
            11,
            exposure=rental,
        ),
        DataSet(
            t(
                "投開票所の施設管理者・鍵保管者（北区分）",
                "Polling-station facility managers and key holders (Kita Ward)",
            ),
            t("北区選挙管理委員会事務局", "Kita Ward Election Administration Commission"),
            tuple(_item(k) for k in ("name", "address", "phone")),
            8,
            exposure=rental,
        ),
        DataSet(
            t(
                "郵便等による不在者投票の対象者（北区分）",
                "Voters entitled to postal voting (Kita Ward)",
            ),
            t("北区選挙管理委員会事務局", "Kita Ward Election Administration Commission"),
            tuple(
                _item(k)
                for k in (
                    "name",
                    "sex",
                    "birth_date",
                    "address",
                    "postal_vote",
                    "disability",
                    "delivery_address",
                    "proxy",
                )
            ),
            125,
            persons_estimated=True,
            exposure=rental,
        ),
        DataSet(
            t(
                "指定病院等における不在者投票対象者（北区分）",
                "Absentee voters in designated hospitals (Kita Ward)",
            ),
            t("北区選挙管理委員会事務局", "Kita Ward Election Administration Commission"),
            (_item("name"),),
            393,
            persons_estimated=True,
            exposure=rental,
        ),
        DataSet(
            t(
                "伝統産業子ども就業体験事業の参加者",
                "Participants in the children's traditional-crafts work experience",
            ),
            t("（公財）堺市産業振興センター", "Sakai Industrial Promotion Center"),
            tuple(_item(k) for k in ("name", "address", "phone", "school_name", "grade")),
            35,
            exposure=rental,
        ),
    )
    events = (
        PublicEvent(
            _at(2015, 4, 1),
            Precision.DAY,
            t("データがインターネット上で閲覧可能に", "Data becomes readable on the internet"),
            t(
                "当該職員が個人で契約していた民間レンタルサーバーに保存していたデータが、この頃から"
                "6月までの間、インターネット上で閲覧可能な状態にあった。",
                "Data stored by the employee on a private rental server was readable on the "
                "internet from about this date until June.",
            ),
        ),
        PublicEvent(
            _at(2015, 6, 24, 20, 0),
            Precision.MINUTE,
            t("匿名の通報を受付", "Anonymous report received"),
            t(
                "市政情報課ホームページに「インターネット上に不審な情報がある」との匿名の通報"
                "（メール）が寄せられた。",
                "An anonymous e-mail through the city's website reported "
                "'suspicious information on the internet'.",
            ),
        ),
        PublicEvent(
            _at(2015, 6, 25),
            Precision.DAY,
            t("検索サイトへのキャッシュ削除依頼", "Cache removal requested from search engines"),
            t(
                "インターネット検索サイトにキャッシュの削除を依頼し、メール文書の分析と当該職員への"
                "聞取り調査を開始した。",
                "The city asked search engines to remove cached copies and began analysing the "
                "documents and interviewing the employee.",
            ),
        ),
        PublicEvent(
            _at(2015, 8, 22),
            Precision.DAY,
            t("ブログサイトへの書き込み", "Blog post about a leak"),
            t(
                "ブログサイトに選挙システムや有権者の個人情報の流出があったとの書き込みがなされた。",
                "A blog post claimed that the election system and voters' data had leaked.",
            ),
        ),
        PublicEvent(
            _at(2015, 9, 5),
            Precision.DAY,
            t("流出情報の画像の掲載", "Images of leaked lists published"),
            t(
                "別のインターネットサイトに、マスキングされた個人情報の一覧やメール文書の画像が"
                "掲載された。",
                "Another website published masked images of lists of personal data and e-mails.",
            ),
        ),
        PublicEvent(
            _at(2015, 9, 7),
            Precision.DAY,
            t("第1報の報道提供", "First press release"),
            t(
                "「職員の不祥事案の発生について」を報道提供した。",
                "The city issued its first release.",
            ),
        ),
        PublicEvent(
            _at(2015, 9, 13),
            Precision.DAY,
            t("第2報の報道提供（選挙データの持ち出し）", "Second release (election data taken)"),
            t(
                "約68万件の有権者情報を含む選挙システムの持ち出しが判明したことを公表した。",
                "The city announced that an election system with about 680,000 voters' records "
                "had been taken home.",
            ),
        ),
        PublicEvent(
            _at(2015, 12, 14),
            Precision.DAY,
            t("調査結果の公表", "Findings published"),
            t(
                "市内全有権者約68万人の情報を含む15ファイルが流出したこと、二次被害は確認されて"
                "いないことを公表した。",
                "15 files with the data of about 680,000 voters had leaked; no secondary damage "
                "was confirmed.",
            ),
        ),
        PublicEvent(
            _at(2016, 2, 25),
            Precision.DAY,
            t("検証委員会報告書の公表", "Committee report published"),
        ),
        PublicEvent(
            _at(2016, 3, 2),
            Precision.DAY,
            t("刑事告訴", "Criminal complaint filed"),
            t(
                "市個人情報保護条例違反及び地方公務員法違反の罪で告訴状を堺警察署に提出した。",
                "Complaint filed with Sakai police station under the city's data protection "
                "ordinance and the Local Public Service Act.",
            ),
        ),
    )
    causes = (
        t(
            "所属長の承認を得ることなく、業務上のデータを外部に持ち出すことができた。",
            "Business data could be taken out without the head of division's approval.",
        ),
        t(
            "職員及び所属長の個人情報及び守秘義務に対する認識が不足していた。",
            "Staff and managers were insufficiently aware of personal data and confidentiality.",
        ),
        t(
            "承認行為が無くてもシステムからのデータの外部持出しや外部記録媒体の接続が可能であった。",
            "Data export and external media were possible without approval.",
        ),
        t(
            "データの外部持出しの操作記録（ログ）を取得できないシステムが存在していた。",
            "Some systems kept no log of data exports.",
        ),
    )
    measures = (
        Measure(
            t(
                "全職員を対象とした情報セキュリティ研修と効果測定",
                "Security training for all staff",
            ),
            t("総務局 人事部", "Personnel Department"),
            date(2016, 3, 31),
            MeasureStatus.DONE,
            t("eラーニング受講率98%、理解度テスト平均85点", "98% completed; test average 85"),
        ),
        Measure(
            t("データのシステム外への持出し承認の二重化", "Dual approval of data exports"),
            t("情報システム担当課", "IT Division"),
            date(2016, 3, 31),
            MeasureStatus.DONE,
            t("承認記録の月次点検で未承認の持出し0件", "Monthly check: 0 unapproved exports"),
        ),
        Measure(
            t("外部記録媒体の接続制限", "Block external storage media"),
            t("情報システム担当課", "IT Division"),
            date(2016, 6, 30),
            MeasureStatus.DONE,
            t("全端末で接続制御を適用", "Applied to all terminals"),
        ),
        Measure(
            t("個人情報を扱う個別システムの操作ログ取得", "Export logs in all systems"),
            t("情報システム担当課", "IT Division"),
            date(2017, 3, 31),
            MeasureStatus.IN_PROGRESS,
            t("対象42システム中31システムで取得開始", "31 of 42 systems logging"),
        ),
        Measure(
            t("CSIRT（情報セキュリティに関する統一的窓口）の設置", "Set up a CSIRT"),
            t("総務局", "General Affairs Bureau"),
            date(2016, 4, 1),
            MeasureStatus.DONE,
            t("2016年4月1日設置、訓練年2回", "Set up 1 April 2016; two drills a year"),
        ),
        Measure(
            t("事故対策会議の設置", "Incident response meeting"),
            t("総務局", "General Affairs Bureau"),
            date(2016, 4, 1),
            MeasureStatus.DONE,
        ),
        Measure(
            t("公益通報対応の仕組みの見直し", "Review of whistleblowing handling"),
            t("総務局 人事部", "Personnel Department"),
            date(2017, 3, 31),
            MeasureStatus.PLANNED,
        ),
    )
    recommendations = (
        Recommendation(
            1,
            t(
                "インターネット上など IT 系の不審事象が起こった場合は、まず個人情報の漏えいを疑い、"
                "データが削除されていることを念頭に置いて対応すること。",
                "When something suspicious appears on the internet, first suspect a leak of "
                "personal data, and assume the data may already have been removed.",
            ),
            t("CSIRT", "CSIRT"),
            t("インターネット上の不審事象への対応", "Suspicious events on the internet"),
        ),
        Recommendation(
            2,
            t(
                "現場の担当職員レベルから些細な情報であっても吸い上げて組織として共有し、重要と"
                "判断したものは専門家の参画を得て対応すること。",
                "Collect even minor information from front-line staff, share it, and involve "
                "experts in what is judged important.",
            ),
            t("総務局", "General Affairs Bureau"),
            t("情報の集約と専門家の参画", "Pooling information and involving experts"),
        ),
        Recommendation(
            3,
            t(
                "少人数の初動体制（レスポンスチーム）を編成し、日頃の演習や訓練により実効性を"
                "高めること。",
                "Form a small response team and keep it effective through regular exercises.",
            ),
            t("CSIRT", "CSIRT"),
            t("迅速なレスポンスチームの編成", "A rapid response team"),
        ),
        Recommendation(
            4,
            t(
                "通報を公益通報対応の問題としてとらえ、通報者が不利益を被ることがないよう、通報の"
                "受入れと調査の仕組みを見直すこと。",
                "Treat such reports as whistleblowing: protect the reporter and review how "
                "reports are received and investigated.",
            ),
            t("総務局 人事部", "Personnel Department"),
            t("通報への対応と公益通報対応の見直し", "Handling reports and whistleblowing"),
        ),
        Recommendation(
            5,
            t(
                "個人情報の持出しログを担当課にリアルタイムに集約し、PDCA サイクルにより定期的に"
                "検証すること。",
                "Collect export logs centrally in real time and review them regularly.",
            ),
            t("情報システム担当課", "IT Division"),
            t("ログの管理", "Log management"),
        ),
        Recommendation(
            6,
            t(
                "職員の意識向上のための研修について、効果測定を確実に実施すること。",
                "Measure the effect of staff training.",
            ),
            t("総務局 人事部", "Personnel Department"),
            t("職員の意識の向上", "Staff awareness"),
        ),
    )
    committee = Committee(
        name=t("堺市個人情報流出事案検証委員会", "Sakai City Personal Data Leak Review Committee"),
        mandate=t(
            "市長の委嘱により、本事案に関する市の調査の妥当性及び対応の適否を検証し、再発防止に"
            "向けた提言を行う。",
            "Appointed by the mayor to review the city's investigation and response and to "
            "make recommendations to prevent recurrence.",
        ),
        members=(
            CommitteeMember(t("委員A", "Member A"), t("弁護士", "Attorney"), t("委員長", "Chair")),
            CommitteeMember(
                t("委員B", "Member B"),
                t("大学教授（情報セキュリティ）", "Professor of information security"),
            ),
            CommitteeMember(t("委員C", "Member C"), t("公認会計士", "Certified accountant")),
        ),
        independence=t(
            "委員はいずれも市及び当該職員と利害関係を有しない外部の専門家である。",
            "All members are outside experts with no interest in the city or the employee.",
        ),
        scope=t(
            "事実経過、背景、管理体制上の問題点及び組織風土",
            "Facts, background, control failures and organisational culture",
        ),
        method=t(
            "関係資料の精査、関係職員への聞取り、現地調査",
            "Review of documents, interviews with staff, site visits",
        ),
        period_start=date(2015, 12, 21),
        period_end=date(2016, 2, 25),
    )
    obligations = (
        Obligation(
            "reporter_notice",
            _at(2015, 7, 14, 23, 59),
            _at(2015, 9, 24, 10, 0),
        ),
        Obligation("ppc_preliminary", _at(2015, 6, 29, 23, 59), _at(2015, 9, 8, 10, 0)),
        Obligation("ppc_final", _at(2015, 7, 24, 23, 59), _at(2015, 12, 14, 10, 0)),
        Obligation("individual_notice", _at(2015, 10, 7, 23, 59), _at(2016, 1, 1, 9, 0)),
    )
    return CaseFacts(
        organisation=org,
        case_reference="SAKAI-2015-001",
        title=t("職員の不祥事案の発生について", "Misconduct by a city employee"),
        summary=t(
            "市職員が業務上のデータを持ち出し、個人で契約していた民間レンタルサーバーに保存した"
            "結果、市内全有権者約68万人分を含む個人情報がインターネット上で閲覧可能な状態にあり、"
            "流出したものと考えられる。",
            "A city employee took business data home and stored it on a private rental server; "
            "personal data including that of about 680,000 voters was readable on the internet "
            "and is considered to have leaked.",
        ),
        aware_at=_at(2015, 6, 24, 20, 0),
        first_report_at=_at(2015, 6, 24, 20, 0),
        first_contact_with_reporter_at=_at(2015, 9, 24, 10, 0),
        document_date=date(2015, 12, 14),
        lang=lang,
        staff=StaffMisconduct(
            t("会計室", "Accounting Office"), t("課長補佐級", "Deputy manager"), 59
        ),
        events=events,
        data_sets=data_sets,
        causes=causes,
        responses=Responses(
            notice_to_individuals=t(
                "広報さかい1月号（約40万部、全戸配布）にお詫びと経緯を掲載し、問い合わせ窓口を"
                "設置した。",
                "An apology and account were printed in the January city newsletter (about "
                "400,000 copies, every household) and an enquiry desk was set up.",
            ),
            takedown=t(
                "インターネット検索サイト及び掲載サイトに対し、キャッシュ及び掲載情報の削除を依頼した。",
                "Search engines and the sites concerned were asked to remove cached copies and "
                "postings.",
            ),
            police=t(
                "2016年3月2日、堺警察署に告訴状を提出した。",
                "A criminal complaint was filed with Sakai police station on 2 March 2016.",
            ),
        ),
        secondary_damage=t(
            "現時点で、流出した個人情報の悪用等の二次被害は確認されていない。",
            "No misuse or other secondary damage has been confirmed so far.",
        ),
        measures=measures,
        findings=(
            t(
                "当該職員は北区選挙管理委員会事務局在籍時の2006年度から2011年度の間、約68万件の"
                "有権者情報を含む選挙システムを複数回持ち出し、自宅のパソコンに保存していた。",
                "From 2006 to 2011 the employee repeatedly took home an election system holding "
                "about 680,000 voters' records.",
            ),
            t(
                "市は2015年6月24日の匿名通報から約3か月間、通報者に連絡を取らなかった。",
                "For about three months after the anonymous report of 24 June 2015, the city "
                "did not contact the reporter.",
            ),
        ),
        recommendations=recommendations,
        committee=committee,
        triage=TriageSummary("P1", obligations),
        ppc_stage=PpcStage.FINAL,
        publication=t(
            "2015年9月7日、9月13日及び12月14日に報道提供を行い、市ホームページに掲載した。",
            "Press releases on 7 and 13 September and 14 December 2015, also on the city website.",
        ),
        other_notes=t(
            "市への問い合わせ・苦情は2015年末までに電話521件、メール・手紙40件。",
            "By the end of 2015 the city had received 521 calls and 40 e-mails or letters.",
        ),
    )
