//! Deterministic sample people and to-dos for `Seed::Demo`, shared by both simulators so that
//! the overlap between Notes and Zoho (same e-mail, same to-do subject and due date) is exact.
//!
//! One population of people is generated from a fixed RNG seed; each simulator takes fixed
//! ranges of it (see the `*_RANGE` constants).

use std::collections::HashSet;
use std::ops::Range;

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Notes contacts of the first Domino user ("demo").
pub(crate) const NOTES_DEMO: Range<usize> = 0..200;
/// Every `SHARED_STEP`-th Notes contact of "demo" also exists in Zoho (owner demo): 40 of them.
pub(crate) const SHARED_STEP: usize = 5;
/// Zoho contacts of demo that exist only in Zoho.
pub(crate) const ZOHO_DEMO_ONLY: Range<usize> = 200..310;
/// Notes contacts of the second Domino user ("user2").
pub(crate) const NOTES_USER2: Range<usize> = 310..340;
/// The first `USER2_SHARED` of those also exist in Zoho (owner user2).
pub(crate) const USER2_SHARED: usize = 8;
/// Zoho contacts of user2 that exist only in Zoho.
pub(crate) const ZOHO_USER2_ONLY: Range<usize> = 340..352;
/// Zoho contacts of the third CRM user (the sales manager, who never syncs) that nobody else
/// has. Appended last: the population is drawn in order, so the ranges above stay the same.
pub(crate) const ZOHO_MANAGER_ONLY: Range<usize> = 352..364;
const POPULATION: usize = 364;

#[derive(Clone, Debug)]
pub(crate) struct SamplePerson {
    pub first: String,
    pub last: String,
    pub email: String,
    pub office_phone: String,
    pub mobile: String,
    pub title: String,
    pub department: String,
    pub company: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

#[derive(Clone, Debug)]
pub(crate) struct SampleTask {
    pub subject: String,
    pub body: String,
    pub due: NaiveDate,
    /// Notes importance "1" high, "2" medium, "3" low.
    pub importance: u8,
    pub done: bool,
}

struct Culture {
    weight: u32,
    /// (native, latin) first names.
    first: &'static [(&'static str, &'static str)],
    last: &'static [(&'static str, &'static str)],
    companies: &'static [(&'static str, &'static str)],
    /// (city, state, zip).
    cities: &'static [(&'static str, &'static str, &'static str)],
    streets: &'static [&'static str],
    country: &'static str,
    titles: &'static [&'static str],
    departments: &'static [&'static str],
    /// Phone pattern: `#` is replaced by a random digit.
    office: &'static [&'static str],
    mobile: &'static [&'static str],
}

macro_rules! same {
    ($($s:literal),* $(,)?) => { &[$(($s, $s)),*] };
}

const EN_TITLES: &[&str] = &[
    "Sales Manager",
    "Account Executive",
    "CTO",
    "Purchasing Manager",
    "Software Engineer",
    "Marketing Director",
    "CEO",
    "Operations Lead",
    "Project Manager",
    "Consultant",
    "CFO",
    "Office Manager",
];
const EN_DEPTS: &[&str] = &[
    "Sales",
    "Engineering",
    "Purchasing",
    "Marketing",
    "Finance",
    "Operations",
    "IT",
    "Management",
];

const CULTURES: &[Culture] = &[
    Culture {
        weight: 30,
        first: &[
            ("太郎", "Taro"),
            ("花子", "Hanako"),
            ("健一", "Kenichi"),
            ("由美", "Yumi"),
            ("翔太", "Shota"),
            ("美咲", "Misaki"),
            ("大輔", "Daisuke"),
            ("直樹", "Naoki"),
            ("彩", "Aya"),
            ("拓也", "Takuya"),
            ("恵子", "Keiko"),
            ("浩", "Hiroshi"),
            ("智子", "Tomoko"),
            ("誠", "Makoto"),
            ("陽子", "Yoko"),
        ],
        last: &[
            ("佐藤", "Sato"),
            ("鈴木", "Suzuki"),
            ("高橋", "Takahashi"),
            ("田中", "Tanaka"),
            ("伊藤", "Ito"),
            ("渡辺", "Watanabe"),
            ("山本", "Yamamoto"),
            ("中村", "Nakamura"),
            ("小林", "Kobayashi"),
            ("加藤", "Kato"),
            ("吉田", "Yoshida"),
            ("山田", "Yamada"),
            ("松本", "Matsumoto"),
            ("井上", "Inoue"),
            ("木村", "Kimura"),
        ],
        companies: &[
            ("株式会社サクラ商事", "sakura-shoji.example.jp"),
            ("富士テクノロジー株式会社", "fuji-tech.example.jp"),
            ("東京ソフトウェア株式会社", "tokyo-soft.example.jp"),
            ("大阪精機株式会社", "osaka-seiki.example.jp"),
            ("みなと物流株式会社", "minato-logi.example.jp"),
        ],
        cities: &[
            ("千代田区", "東京都", "100-0005"),
            ("港区", "東京都", "105-0011"),
            ("大阪市北区", "大阪府", "530-0001"),
            ("横浜市西区", "神奈川県", "220-0012"),
            ("名古屋市中区", "愛知県", "460-0008"),
        ],
        streets: &[
            "丸の内1-9-2",
            "芝公園4-2-8",
            "梅田3-1-3",
            "みなとみらい2-2-1",
            "栄3-5-12",
        ],
        country: "日本",
        titles: &[
            "部長",
            "課長",
            "主任",
            "営業担当",
            "エンジニア",
            "代表取締役",
            "係長",
        ],
        departments: &[
            "営業部",
            "開発部",
            "総務部",
            "マーケティング部",
            "購買部",
            "経理部",
        ],
        office: &[
            "03-5555-0###",
            "+81 3-5555-0###",
            "06-6555-0###",
            "045-555-0###",
        ],
        mobile: &["090-####-####", "080-####-####", "+81 90-####-####"],
    },
    Culture {
        weight: 22,
        first: same!(
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "John",
            "Jennifer",
            "Michael",
            "Linda",
            "David",
            "Elizabeth",
            "William",
            "Barbara",
            "Richard",
            "Susan",
            "Joseph",
            "Jessica",
            "Thomas",
            "Sarah",
            "Charles",
            "Karen",
            "Emily",
            "Daniel",
            "Olivia",
            "Matthew"
        ),
        last: same!(
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
            "Clark", "Lewis", "Walker", "O'Brien", "Robinson"
        ),
        companies: &[
            ("Acme Corporation", "acme.example"),
            ("Globex Inc.", "globex.example"),
            ("Initech", "initech.example"),
            ("Umbrella Holdings", "umbrella-holdings.example"),
            ("Stark Industries", "stark-industries.example"),
            ("Wayne Enterprises", "wayne-ent.example"),
        ],
        cities: &[
            ("San Francisco", "CA", "94105"),
            ("New York", "NY", "10001"),
            ("Austin", "TX", "78701"),
            ("Chicago", "IL", "60601"),
            ("Seattle", "WA", "98101"),
            ("Boston", "MA", "02110"),
        ],
        streets: &[
            "100 Market St",
            "350 5th Ave",
            "221 Congress Ave",
            "875 N Michigan Ave",
            "1201 3rd Ave, Suite 400",
            "1 Federal St",
        ],
        country: "United States",
        titles: EN_TITLES,
        departments: EN_DEPTS,
        office: &[
            "+1 (415) 555-01##",
            "+1 212-555-01##",
            "(512) 555-01##",
            "+1 312 555 01##",
        ],
        mobile: &["+1 (415) 555-02##", "+1 646-555-02##"],
    },
    Culture {
        weight: 8,
        first: same!(
            "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Grace"
        ),
        last: same!(
            "Evans", "Hughes", "Wright", "Green", "Hall", "Wood", "Turner", "Cooper"
        ),
        companies: &[
            ("Brightwell Ltd", "brightwell.example"),
            ("Thames Logistics plc", "thames-logistics.example"),
        ],
        cities: &[
            ("London", "", "EC1A 1BB"),
            ("Manchester", "", "M1 1AE"),
            ("Edinburgh", "Scotland", "EH1 1YZ"),
        ],
        streets: &["10 Finsbury Square", "52 Deansgate", "7 Royal Mile"],
        country: "United Kingdom",
        titles: EN_TITLES,
        departments: EN_DEPTS,
        office: &["+44 20 7946 0###", "020 7946 0###", "+44 161 496 0###"],
        mobile: &["+44 7700 900###", "07700 900###"],
    },
    Culture {
        weight: 8,
        first: &[
            ("Lukas", "Lukas"),
            ("Anna", "Anna"),
            ("Jonas", "Jonas"),
            ("Lea", "Lea"),
            ("Felix", "Felix"),
            ("Jürgen", "Juergen"),
            ("Katrin", "Katrin"),
            ("Stefan", "Stefan"),
        ],
        last: &[
            ("Müller", "Mueller"),
            ("Schmidt", "Schmidt"),
            ("Schneider", "Schneider"),
            ("Fischer", "Fischer"),
            ("Weber", "Weber"),
            ("Wagner", "Wagner"),
            ("Köhler", "Koehler"),
            ("Hoffmann", "Hoffmann"),
        ],
        companies: &[
            ("Müller & Söhne GmbH", "mueller-soehne.example"),
            ("Nordlicht Software AG", "nordlicht.example"),
        ],
        cities: &[
            ("Berlin", "BE", "10115"),
            ("München", "BY", "80331"),
            ("Hamburg", "HH", "20095"),
        ],
        streets: &["Friedrichstraße 123", "Leopoldstraße 8", "Jungfernstieg 30"],
        country: "Deutschland",
        titles: &[
            "Geschäftsführer",
            "Vertriebsleiterin",
            "Einkaufsleiter",
            "Entwickler",
        ],
        departments: &["Vertrieb", "Einkauf", "Entwicklung", "Geschäftsleitung"],
        office: &["+49 30 5550 1###", "030 5550 1###", "+49 89 5550 1###"],
        mobile: &["+49 151 5555 5###", "0151 5555 5###"],
    },
    Culture {
        weight: 7,
        first: &[
            ("Camille", "Camille"),
            ("Léa", "Lea"),
            ("Hugo", "Hugo"),
            ("Manon", "Manon"),
            ("Théo", "Theo"),
            ("Élodie", "Elodie"),
            ("Nicolas", "Nicolas"),
            ("Chloé", "Chloe"),
        ],
        last: &[
            ("Bernard", "Bernard"),
            ("Dubois", "Dubois"),
            ("Lefèvre", "Lefevre"),
            ("Girard", "Girard"),
            ("Durand", "Durand"),
            ("Petit", "Petit"),
        ],
        companies: &[
            ("Lumière SA", "lumiere.example"),
            ("Société Générale de Conseil", "sg-conseil.example"),
        ],
        cities: &[("Paris", "", "75008"), ("Lyon", "", "69002")],
        streets: &["12 rue de Rivoli", "45 quai Saint-Antoine"],
        country: "France",
        titles: &[
            "Directrice commerciale",
            "Chef de projet",
            "Acheteur",
            "Ingénieur",
        ],
        departments: &["Commercial", "Achats", "Informatique", "Direction"],
        office: &["+33 1 55 55 0# ##", "01 55 55 0# ##"],
        mobile: &["+33 6 55 55 0# ##"],
    },
    Culture {
        weight: 8,
        first: &[
            ("José", "Jose"),
            ("María", "Maria"),
            ("Carlos", "Carlos"),
            ("Lucía", "Lucia"),
            ("Javier", "Javier"),
            ("Sofía", "Sofia"),
            ("Diego", "Diego"),
            ("Valentina", "Valentina"),
        ],
        last: &[
            ("García", "Garcia"),
            ("Rodríguez", "Rodriguez"),
            ("Martínez", "Martinez"),
            ("López", "Lopez"),
            ("Hernández", "Hernandez"),
            ("Pérez", "Perez"),
            ("Sánchez", "Sanchez"),
            ("Torres", "Torres"),
        ],
        companies: &[
            ("Soluciones Ibéricas S.L.", "soluciones-ibericas.example"),
            ("Grupo Azteca S.A. de C.V.", "grupo-azteca.example"),
        ],
        cities: &[
            ("Madrid", "Madrid", "28013"),
            ("Ciudad de México", "CDMX", "06600"),
            ("Barcelona", "Cataluña", "08002"),
        ],
        streets: &[
            "Calle Gran Vía 28",
            "Paseo de la Reforma 222",
            "Passeig de Gràcia 43",
        ],
        country: "España",
        titles: &[
            "Director Comercial",
            "Gerente de Compras",
            "Ingeniera de Software",
        ],
        departments: &["Ventas", "Compras", "Tecnología"],
        office: &["+34 91 555 0###", "+52 55 5555 0###"],
        mobile: &["+34 600 555 ###", "+52 1 55 5555 ####"],
    },
    Culture {
        weight: 7,
        first: same!(
            "Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya"
        ),
        last: same!(
            "Sharma", "Patel", "Gupta", "Reddy", "Iyer", "Nair", "Singh", "Mehta"
        ),
        companies: &[
            ("Infosphere Technologies Pvt Ltd", "infosphere.example"),
            ("Ganges Textiles", "ganges-textiles.example"),
        ],
        cities: &[
            ("Bengaluru", "Karnataka", "560001"),
            ("Mumbai", "Maharashtra", "400001"),
        ],
        streets: &["12 MG Road", "Nariman Point, Tower B"],
        country: "India",
        titles: EN_TITLES,
        departments: EN_DEPTS,
        office: &["+91 80 5555 0###", "+91 22 5555 0###"],
        mobile: &["+91 98765 4####", "+91 99887 7####"],
    },
    Culture {
        weight: 5,
        first: same!("Wei", "Fang", "Lei", "Jing", "Hao", "Mei"),
        last: same!("Wang", "Li", "Zhang", "Liu", "Chen", "Zhao"),
        companies: &[("Shanghai Pearl Trading Co.", "pearl-trading.example")],
        cities: &[
            ("Shanghai", "Shanghai", "200000"),
            ("Shenzhen", "Guangdong", "518000"),
        ],
        streets: &["88 Century Avenue", "6 Shennan Road"],
        country: "China",
        titles: EN_TITLES,
        departments: EN_DEPTS,
        office: &["+86 21 5555 0###"],
        mobile: &["+86 138 5555 ####"],
    },
    Culture {
        weight: 5,
        first: same!("Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin"),
        last: same!("Kim", "Lee", "Park", "Choi", "Jung", "Kang"),
        companies: &[("Hanbit Electronics", "hanbit.example")],
        cities: &[("Seoul", "", "04524")],
        streets: &["55 Sejong-daero"],
        country: "South Korea",
        titles: EN_TITLES,
        departments: EN_DEPTS,
        office: &["+82 2-555-0###"],
        mobile: &["+82 10-5555-####"],
    },
];

fn fill_digits(pattern: &str, rng: &mut StdRng) -> String {
    pattern
        .chars()
        .map(|c| {
            if c == '#' {
                char::from_digit(rng.random_range(0..10), 10).unwrap_or('0')
            } else {
                c
            }
        })
        .collect()
}

fn pick<'a, T>(items: &'a [T], rng: &mut StdRng) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn email_local(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '-' => Some('-'),
            _ => None,
        })
        .collect()
}

/// The whole deterministic population.
pub(crate) fn population() -> Vec<SamplePerson> {
    let mut rng = StdRng::seed_from_u64(0x4e5a_5359_4e43);
    let total: u32 = CULTURES.iter().map(|c| c.weight).sum();
    let mut seen = HashSet::new();
    let mut people = Vec::with_capacity(POPULATION);
    while people.len() < POPULATION {
        let mut roll = rng.random_range(0..total);
        let culture = CULTURES
            .iter()
            .find(|c| {
                if roll < c.weight {
                    true
                } else {
                    roll -= c.weight;
                    false
                }
            })
            .unwrap_or(&CULTURES[0]);
        let (first, first_latin) = *pick(culture.first, &mut rng);
        let (last, last_latin) = *pick(culture.last, &mut rng);
        let (company, domain) = *pick(culture.companies, &mut rng);
        let city_index = rng.random_range(0..culture.cities.len());
        let (city, state, zip) = culture.cities[city_index];
        let street = culture.streets[city_index % culture.streets.len()];
        let base = format!("{}.{}", email_local(first_latin), email_local(last_latin));
        let mut local = base.clone();
        let mut n = 2;
        while !seen.insert(format!("{local}@{domain}")) {
            local = format!("{base}{n}");
            n += 1;
        }
        people.push(SamplePerson {
            first: first.to_owned(),
            last: last.to_owned(),
            email: format!("{local}@{domain}"),
            office_phone: fill_digits(pick::<&str>(culture.office, &mut rng), &mut rng),
            mobile: fill_digits(pick::<&str>(culture.mobile, &mut rng), &mut rng),
            title: (*pick(culture.titles, &mut rng)).to_owned(),
            department: (*pick(culture.departments, &mut rng)).to_owned(),
            company: company.to_owned(),
            street: street.to_owned(),
            city: city.to_owned(),
            state: state.to_owned(),
            zip: zip.to_owned(),
            country: culture.country.to_owned(),
        });
    }
    people
}

const TASK_SUBJECTS: &[&str] = &[
    "Send quotation to {company}",
    "Follow up with {name}",
    "Prepare quarterly sales report",
    "Renew support contract with {company}",
    "見積書を{company}に送付",
    "{name}さんに電話で確認",
    "Review contract draft",
    "Schedule product demo for {company}",
    "Update pipeline forecast",
    "請求書の確認",
    "Book travel to Osaka",
    "Prepare slides for {company} meeting",
    "新製品カタログの準備",
    "Check delivery status for {company}",
    "Collect feedback from {name}",
    "Plan team offsite",
];

const TASK_BODIES: &[&str] = &[
    "Include the volume discount discussed last week.",
    "Ask about the budget for next fiscal year.",
    "Numbers from the regional offices are due on Friday.",
    "前回の打ち合わせ内容を踏まえて対応すること。",
    "Legal needs the redlined version first.",
    "",
];

/// `n` sample to-dos from the given stream, due around `today`, mentioning people of `people`.
pub(crate) fn tasks(
    stream: u64,
    n: usize,
    today: NaiveDate,
    people: &[SamplePerson],
) -> Vec<SampleTask> {
    let mut rng = StdRng::seed_from_u64(0x7a54_0000 + stream);
    (0..n)
        .map(|i| {
            let person = &people[rng.random_range(0..people.len().max(1)) % people.len().max(1)];
            let name = format!("{} {}", person.first, person.last);
            let subject = TASK_SUBJECTS[(i + stream as usize * 3) % TASK_SUBJECTS.len()]
                .replace("{company}", &person.company)
                .replace("{name}", &name);
            let offset: i64 = rng.random_range(-12..45);
            let due = if offset >= 0 {
                today.checked_add_days(Days::new(offset.unsigned_abs()))
            } else {
                today.checked_sub_days(Days::new(offset.unsigned_abs()))
            }
            .unwrap_or(today);
            SampleTask {
                subject,
                body: (*pick(TASK_BODIES, &mut rng)).to_owned(),
                due,
                importance: rng.random_range(1..=3),
                done: offset < -3 && i % 2 == 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_is_deterministic_and_emails_unique() {
        let a = population();
        let b = population();
        assert_eq!(a.len(), POPULATION);
        assert!(a.iter().zip(&b).all(|(x, y)| x.email == y.email));
        let emails: HashSet<_> = a.iter().map(|p| p.email.to_lowercase()).collect();
        assert_eq!(emails.len(), a.len());
        assert!(a.iter().any(|p| p.country == "日本"));
        assert!(a.iter().all(|p| p.email.is_ascii()));
    }
}
