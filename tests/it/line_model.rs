//! The line classifier and the comment cuts on pages written for the
//! purpose, one per error class that cost the most on real pages: prose at
//! the foot of a page, lists of other stories' headlines, a blog page of
//! several posts each with its comment count, and a comment count linked
//! above the article. They pin behaviour (what must stay, what must go), not
//! weights: any model that does its job passes them.

use dechaff_engine::{CleanConfig, Cleaner, CleanerBuilder, Comments, RuleSet, RuleSetBuilder};

fn cleaner(comments: Comments) -> Cleaner {
    let config = CleanConfig {
        comments,
        ..CleanConfig::default()
    };
    CleanerBuilder::new()
        .config(config)
        .build(RuleSet::shipped().unwrap())
        .unwrap()
}

fn clean(page: &str) -> String {
    cleaner(Comments::Drop).clean(page).text.clone()
}

fn kept(output: &str, line: &str) -> bool {
    output.lines().any(|l| l.trim() == line)
}

fn assert_all_kept(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(kept(output, line), "lost {line:?}; output:\n{output}");
    }
}

const STORY: [&str; 3] = [
    "The old mill by the river was built in 1820 and ground flour for the town until the last miller retired in the spring of 1961.",
    "After that it stood empty for decades, and its roof fell in during the great storm, until a group of neighbours bought it for one pound.",
    "They have spent ten years putting it back together, and on Saturday the wheel turned again for the first time in more than sixty years.",
];

/// The story under its headline, a blank line after each paragraph.
fn article() -> String {
    let mut page = String::from("Mill turns again after sixty years\n\n");
    for paragraph in STORY {
        page.push_str(paragraph);
        page.push_str("\n\n");
    }
    page
}

/// A page whose article stands at the very foot, under a long menu and a
/// list of links: the classifier scored such paragraphs as chaff because
/// nothing of prose stood above them.
#[test]
fn prose_at_the_foot_of_a_page_is_kept() {
    let mut page = String::new();
    for item in [
        "Home", "News", "Local", "Sport", "Weather", "Events", "Photos", "Contact", "Log in",
    ] {
        page.push_str(item);
        page.push('\n');
    }
    page.push_str("\nLatest\nRoad works on the bypass\nSchool wins award\nNew bus times\nMarket moves to Friday\n\n");
    page.push_str("Mill turns again after sixty years\n\n");
    for paragraph in STORY {
        page.push_str(paragraph);
        page.push_str("\n\n");
    }
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
    assert!(!kept(&output, "Weather"), "the menu goes:\n{output}");
}

/// Headlines of other stories under the article, numbered as "most read"
/// lists print them, with their comment counts: none of it is the article.
#[test]
#[ignore = "not yet: the line model keeps numbered headline lists right under an article (it has no numbered-list feature)"]
fn teaser_lists_under_an_article_go() {
    let mut page = article();
    let teasers = [
        "1 Council votes to close the old swimming baths",
        "2 Man finds war medal in garden shed",
        "3 Bus fares to rise by ten pence in April",
        "4 Village shop saved by its customers",
        "5 Floods close the road to the coast again",
    ];
    page.push_str("Most read\n");
    for teaser in teasers {
        page.push_str(teaser);
        page.push('\n');
    }
    page.push_str("(129)\nMore from Local\nPrivacy\nTerms\n");
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
    for teaser in teasers {
        assert!(!kept(&output, teaser), "kept the teaser {teaser:?}:\n{output}");
    }
    assert!(!kept(&output, "(129)"), "kept a bare comment count:\n{output}");
}

/// A sentence is prose wherever it stands, even between two link lists,
/// and reference marks after its final stop ("… in 1961. [3]") leave it a
/// sentence: a story whose paragraphs each ended with its sources' marks
/// read as lines that did not end as sentences do, and went.
#[test]
fn a_sentence_ending_in_reference_marks_is_prose() {
    let menu = [
        "Home",
        "News",
        "Sport",
        "Weather",
        "Local",
        "Photos",
        "Video",
        "Events",
        "Jobs",
        "Contact",
        "About us",
        "Archive",
        "Log in",
        "Search",
        "Subscribe",
    ];
    for mark in ["", " [3]", " [MP2]", " [2][14]"] {
        let sentence = format!("{}{mark}", STORY[0]);
        let mut page = menu.join("\n");
        page.push_str(&format!("\n{sentence}\n"));
        page.push_str(&menu.iter().rev().copied().collect::<Vec<_>>().join("\n"));
        let output = clean(&page);
        assert_all_kept(&output, &[sentence.as_str()]);
    }
}

const POSTS: [[&str; 2]; 3] = [
    [
        "We finally finished the new garden shed this weekend, and it only took us three tries to get the roof to sit straight on the walls.",
        "Next we want to paint it green, so that it disappears behind the hedge instead of shouting at the neighbours every morning.",
    ],
    [
        "The tomatoes are in, all twelve plants, and the cat has already tried to sleep in the warmest corner of the bed we made for them.",
        "If the weather holds we should have the first fruit by July, which would be a whole month earlier than we managed last year.",
    ],
    [
        "A short note to say that the blog will be quiet next week, because we are taking the children to the coast for a few days.",
        "We will be back with photographs of the shed in its new colour, and with whatever the cat has done to the tomatoes while we were away.",
    ],
];

/// A blog's front page prints every post with its author, its time and its
/// comment count. "Comments (0)" under the first post once confirmed itself
/// with the next post's time stamp and cut every later post.
#[test]
fn a_multi_post_blog_page_keeps_every_post() {
    let mut page = String::from("Our Garden Blog\nHome\nAbout\nArchive\n\n");
    let titles = ["The shed is done", "Tomatoes in", "Off to the coast"];
    let times = ["9:43 AM", "8:15 PM", "7:02 AM"];
    let counts = ["Comments (0)", "Comments (2)", "Comments (5)"];
    for (((title, post), time), count) in titles.iter().zip(POSTS).zip(times).zip(counts) {
        page.push_str(&format!(
            "{title}\n\n{}\n\n{}\n\nPosted by Aaron @ {time}\n{count}\n\n",
            post[0], post[1]
        ));
    }
    page.push_str("Blog archive\nMay (3)\nApril (7)\n");
    let output = clean(&page);
    for post in POSTS {
        assert_all_kept(&output, &post);
    }
}

/// A "53 Comments" link printed between the standfirst and the article is
/// no comment section: the article below it stays.
#[test]
#[ignore = "not yet: the byline's time stamp and a trailing 'Share' still read as two comments to the comment cut"]
fn a_counted_comment_link_above_an_article_keeps_the_article() {
    let mut page = String::from("Home\nNews\nLocal\n\nMill turns again after sixty years\n\n");
    page.push_str("Neighbours who bought a ruined mill for one pound have brought its wheel back to life after ten years of work.\n");
    page.push_str(
        "The mill, built in 1820, ground flour for the town for well over a century before it closed for good.\n\n",
    );
    page.push_str("53 Comments\n\nBy Jane Smith\nMay 3, 2012 at 10:41 am\n\n");
    for paragraph in STORY {
        page.push_str(paragraph);
        page.push_str("\n\n");
    }
    page.push_str("Jo Bloggs\nRead more\nShare\n");
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
}

const THREAD: &str = "Discussion\nAnn says:\nMay 3, 2012 at 10:41 am\n\
What a lovely story, my grandfather used to take his corn to that mill when he was a boy, and he would have loved to see it turning again.\n\
Reply\nBob says:\nMay 3, 2012 at 11:02 am\n\
We went on Saturday and the bread they baked from the first flour was the best I have had in years, well worth the queue.\nReply\n";

/// A real comment thread below the article goes by default and its comments
/// stay with `--comments keep`, the article staying either way. (The heading
/// is one no phrase rule knows: `--comments keep` turns the comment cuts
/// off, not the comments pack, whose tail rules still cut at "3 Comments".)
#[test]
fn a_comment_thread_goes_unless_comments_are_kept() {
    let mut page = article();
    page.push_str(THREAD);
    let comment = "What a lovely story, my grandfather used to take his corn to that mill when he was a boy, and he would have loved to see it turning again.";
    let dropped = clean(&page);
    assert_all_kept(&dropped, &STORY);
    assert!(!kept(&dropped, comment), "the thread goes by default:\n{dropped}");
    let keep = cleaner(Comments::Keep).clean(&page).text.clone();
    assert_all_kept(&keep, &STORY);
    assert!(kept(&keep, comment), "--comments keep keeps the thread:\n{keep}");
}

/// Comments that carry only their authors' bylines, under no heading at
/// all, go as a thread does, and stay with `--comments keep`.
#[test]
fn a_thread_of_bylines_with_no_heading_goes_unless_comments_are_kept() {
    let mut page = article();
    let comments = [
        (
            "Ann Lee",
            "10:41 am",
            "My grandfather took his corn to that mill when he was a boy, and he would have loved this.",
        ),
        (
            "Bob",
            "11:02 am",
            "We went on Saturday and the bread from the first flour was the best I have had.",
        ),
        (
            "Carla Moss",
            "11:30 am",
            "Will it be open to visitors on weekdays too, or only at weekends?",
        ),
        (
            "Dev",
            "12:15 pm",
            "Ten years of Saturdays, well done to every one of them.",
        ),
        ("Eve", "12:40 pm", "Lovely story, thank you for writing it."),
    ];
    for (author, time, body) in comments {
        page.push_str(&format!("{author} May 3, 2012 at {time}\n{body}\n"));
    }
    let removed_by = |comments: Comments| {
        let mut cleaner = cleaner(comments);
        let rules = cleaner.shared_rules();
        let cleaned = cleaner.clean(&page);
        let ids: Vec<String> = cleaned
            .removals()
            .iter()
            .map(|r| rules.rules()[r.rule].id.clone())
            .collect();
        (cleaned.text.clone(), ids)
    };
    let (dropped, ids) = removed_by(Comments::Drop);
    assert_all_kept(&dropped, &STORY);
    for (_, _, body) in comments {
        assert!(!kept(&dropped, body), "kept the comment {body:?}:\n{dropped}");
    }
    assert!(ids.iter().any(|id| id == "heuristics.comment-bylines"), "{ids:?}");
    // With comments kept the cut is off; the classifier still judges each
    // line on its own (a short last remark may go as any short line does).
    let (keep, ids) = removed_by(Comments::Keep);
    assert_all_kept(&keep, &STORY);
    assert!(
        kept(&keep, comments[0].2),
        "--comments keep lost the first comment:\n{keep}"
    );
    assert!(
        !ids.iter().any(|id| id == "heuristics.comment-bylines"),
        "the cut fired with --comments keep: {ids:?}"
    );
}

/// Readers' comments, one per commenter, for the comment-cut tests: each a
/// sentence of 20 words or more, which the line classifier never removes, so
/// that only a cut can.
const COMMENTS: [&str; 5] = [
    "My grandfather took his corn to that mill when he was a boy, and he always said that the bread from it was the best in the county.",
    "We went along on Saturday with the children and watched the wheel turn for an hour, and the volunteers showed us how the stones are dressed.",
    "Ten years of Saturdays spent on one building is a long time, and every one of the neighbours who gave them deserves our thanks for it.",
    "Will the mill be open to visitors on weekdays as well, or only at weekends when the volunteers are there to turn the wheel and show people round?",
    "I walked past it this morning and the sound of the wheel in the river is something I did not expect to hear again in my lifetime.",
];

/// Cleans `page`, an article with a comment thread below it: the story
/// stays whole and every comment in `bodies` goes.
fn assert_the_thread_goes(page: &str, bodies: &[&str]) {
    let output = clean(page);
    assert_all_kept(&output, &STORY);
    for body in bodies {
        assert!(!kept(&output, body), "kept the comment {body:?}:\n{output}");
    }
}

/// Comments under a counted heading whose bylines name the author and the
/// day with no time ("written by Ann, October 18, 2012", as some comment
/// systems print them): the byline is the thread's furniture, and the
/// thread goes.
#[test]
fn a_thread_of_written_by_bylines_goes() {
    let mut page = article();
    let bodies = &COMMENTS[..3];
    page.push_str("Comments (3)\n");
    for (author, body) in ["Ann Lee", "Bob Marsh", "Carla Moss"].iter().zip(bodies) {
        page.push_str(&format!("written by {author}, October 18, 2012\n{body}\n"));
    }
    assert_the_thread_goes(&page, bodies);
}

/// A comment count that carries its link's label on the same line ("2
/// Comments | Leave a comment", "16 Comments (+add yours?)") heads the thread
/// below it as a bare count does.
#[test]
fn a_comment_count_with_a_link_label_heads_its_thread() {
    let bodies = &COMMENTS[..2];
    for heading in ["2 Comments | Leave a comment", "2 Comments (+add yours?)"] {
        let mut page = article();
        page.push_str(heading);
        page.push('\n');
        for (author, body) in ["Ann Lee", "Bob Marsh"].iter().zip(bodies) {
            page.push_str(&format!("{author} says:\n{body}\n"));
        }
        assert_the_thread_goes(&page, bodies);
    }
}

/// Comments headed only by their authors' links and names ("http://example.org
/// Ann Lee", "Bob Marsh"), under no heading: the thread goes from its first
/// link line.
#[test]
fn a_thread_of_commenter_links_with_no_heading_goes() {
    let mut page = article();
    let authors = [
        "http://twitter.com/annlee Ann Lee",
        "Bob Marsh",
        "http://example.org/ Carla Moss",
        "Dev",
        "http://blog.example.net Eve Stone",
    ];
    for (author, body) in authors.iter().zip(COMMENTS) {
        page.push_str(&format!("{author}\n{body}\n"));
    }
    assert_the_thread_goes(&page, &COMMENTS);
}

/// Comments headed by "Ann said..." (an ellipsis after the verb, as Blogger
/// and other comment systems print the byline), each followed by its body and
/// a time stamp, under no heading: the thread goes from its first byline, as
/// it does for "Ann said,".
#[test]
fn a_thread_of_said_ellipsis_bylines_with_no_heading_goes() {
    let mut page = article();
    let bylines = [
        "Ann Lee said...",
        "Anonymous said...",
        "Carla Moss said…",
        "Dev said...",
        "Eve Stone said...",
    ];
    for (i, (byline, body)) in bylines.iter().zip(COMMENTS).enumerate() {
        page.push_str(&format!("{byline}\n{body}\nMay {}, 2012 at 10:4{i} AM\n", i + 3));
    }
    assert_the_thread_goes(&page, &COMMENTS);
}

/// The footer a blog platform prints under a post (the post's filing and
/// time, "Bookmark the permalink") and the links to its neighbouring posts
/// with their titles, above the post and below it: page furniture, though
/// the first footer is a sentence of 20 words and more, which the classifier
/// never removes, and the links read as headlines next to the story.
#[test]
fn a_blog_post_footer_and_its_neighbour_links_go() {
    let links = "« Bus fares to rise in April | Main | Village shop saved by its customers »";
    let footers = [
        "This entry was posted on Saturday, May 5th, 2012 at 9:15 am and is filed under Local, Heritage. You can follow any responses to this entry through the RSS 2.0 feed.",
        "This entry was posted in Local, Heritage and tagged mill, river by Ann Lee. Bookmark the permalink.",
    ];
    let neighbours = [
        "Previous post: Bus fares to rise in April",
        "Next post: Village shop saved by its customers",
    ];
    let mut page = format!("Our Town Blog\n\n{links}\n\n{}", article());
    for footer in footers {
        page.push_str(footer);
        page.push_str("\n\n");
    }
    page.push_str(&neighbours.join("\n"));
    page.push('\n');
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
    for line in footers.iter().chain(&neighbours).chain([&links]) {
        assert!(!kept(&output, line), "kept {line:?}:\n{output}");
    }
}

/// Comments under a count that carries its form's label ("3 Comments Post a
/// comment"), each headed by its author's name and its day on lines of their
/// own, with no time: the names and the bare dates are the thread's
/// furniture, and the thread goes.
#[test]
fn a_counted_thread_of_names_and_days_goes() {
    let mut page = article();
    let bodies = &COMMENTS[..3];
    page.push_str("3 Comments Post a comment\n");
    let heads = [
        ("Ann Lee", "May 3 2012"),
        ("Bob Marsh", "May 3 2012"),
        ("Carla", "May 4 2012"),
    ];
    for ((author, day), body) in heads.iter().zip(bodies) {
        page.push_str(&format!("{author}\n{day}\n\n{body}\n\n"));
    }
    assert_the_thread_goes(&page, bodies);
}

/// A blog platform that prints the post a second time below it (under its
/// comment heading, or as the preview a feed widget left in the text): the
/// page keeps one copy of the post. A paragraph printed twice in a row is
/// no passage, and both copies stay.
#[test]
fn a_post_printed_twice_keeps_one_copy() {
    let more = [
        "The wheel is made of oak and iron, and it took the volunteers two winters to shape its forty-eight paddles by hand.",
        "On open days the mill will grind flour again, and the bakery next door has promised to bake it into bread for the visitors.",
    ];
    let mut post = article();
    for paragraph in more {
        post.push_str(paragraph);
        post.push_str("\n\n");
    }
    let page = format!("{post}Posted at 08:37 PM | Permalink\n\nComments\n\n{post}Subscribe\nArchives\n");
    let output = clean(&page);
    let copies = |line: &str| output.lines().filter(|l| l.trim() == line).count();
    for paragraph in STORY.iter().chain(&more) {
        assert_eq!(copies(paragraph), 1, "{paragraph:?}:\n{output}");
    }
    // Without the line classifier, the pass counts the page's lines itself.
    let rules = RuleSetBuilder::new()
        .disable("heuristics.boilerplate-line")
        .build()
        .unwrap();
    let alone = CleanerBuilder::new().build(rules).unwrap().clean(&page).text.clone();
    for paragraph in STORY.iter().chain(&more) {
        let copies = alone.lines().filter(|l| l.trim() == *paragraph).count();
        assert_eq!(copies, 1, "no classifier, {paragraph:?}:\n{alone}");
    }
    let twice = format!("{}{}\n\n", article(), STORY[2]);
    let output = clean(&twice);
    assert_eq!(
        output.lines().filter(|l| l.trim() == STORY[2]).count(),
        2,
        "a paragraph printed twice in a row:\n{output}"
    );
}

/// A web video player's controls and dialogs, as they land in the text
/// between a story's paragraphs: labels, and a dialog's notice that is a
/// sentence of 20 words, which the classifier never removes.
#[test]
fn a_video_players_labels_go() {
    let labels = [
        "captions settings, opens captions settings dialog",
        "captions off, selected",
        "This is a modal window.",
        "This is a modal window. This modal can be closed by pressing the Escape key or activating the close button.",
    ];
    let mut page = format!("Mill turns again after sixty years\n\n{}\n\n", STORY[0]);
    for line in labels.iter().chain(&STORY[1..]) {
        page.push_str(line);
        page.push_str("\n\n");
    }
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
    for label in labels {
        assert!(!kept(&output, label), "kept {label:?}:\n{output}");
    }
}

/// A paragraph of 20 words or more, different for every `k`: filler for
/// the pages below that need many lines of prose.
fn paragraph(k: usize) -> String {
    format!(
        "On day {k} of the works the volunteers cleaned another part of the wheel, and by the evening they had written up what was left to do."
    )
}

/// An "Add a Comment" box between a story's standfirst and its body, and a
/// list of other stories with their time stamps below the story: the box's
/// first furniture stands more than 30 lines below it, so it heads no
/// thread, and the story stays.
#[test]
fn a_comment_box_far_above_any_furniture_keeps_the_story() {
    let mut page = String::from("Mill turns again after sixty years\n\n");
    page.push_str("Neighbours who bought a ruined mill for one pound have brought its wheel back to life after ten years of work.\n\n");
    page.push_str(
        "The mill, built in 1820, ground flour for the town for well over a century before it closed for good.\n\n",
    );
    page.push_str("Add a Comment\n\n");
    let story: Vec<String> = (1..=16).map(paragraph).collect();
    for line in &story {
        page.push_str(line);
        page.push_str("\n\n");
    }
    page.push_str("Most popular\nBridge to close for a year\nMay 3, 2012 11:00 AM Ann Lee\n");
    page.push_str("Bus fares to rise in April\nMay 2, 2012 5:00 AM Bob Marsh\n");
    page.push_str("Village shop saved by its customers\nMay 1, 2012 11:44 AM Carla Moss\n");
    let output = clean(&page);
    for line in &story {
        assert!(kept(&output, line), "lost {line:?}:\n{output}");
    }
}

/// Comments whose bodies come before their bylines ("Posted by: Ann at May
/// 3, 2012 05:23 PM"), long enough that the second byline stands more than
/// 40 lines below the heading: the thread is still read to its second
/// comment, and goes.
#[test]
fn a_thread_of_long_comments_with_their_bylines_below_goes() {
    let mut page = article();
    page.push_str("Comments\n\n");
    let bodies: Vec<String> = (1..=24).map(paragraph).collect();
    let bylines = [
        "Posted by: Ann Lee at May 3, 2012 05:23 PM",
        "Posted by: Bob Marsh at May 3, 2012 06:10 PM",
        "Posted by: Carla at May 4, 2012 09:02 AM",
    ];
    for (comment, byline) in [&bodies[..3], &bodies[3..21], &bodies[21..]].iter().zip(bylines) {
        for line in comment.iter() {
            page.push_str(line);
            page.push_str("\n\n");
        }
        page.push_str(byline);
        page.push_str("\n\n");
    }
    let output = clean(&page);
    assert_all_kept(&output, &STORY);
    for body in &bodies {
        assert!(!kept(&output, body), "kept the comment {body:?}:\n{output}");
    }
}

/// Comments headed by their authors' links and names, each of three
/// paragraphs, under no heading: the fifth author stands more than 30 lines
/// below the first, and the thread still goes from its first link line.
#[test]
fn a_thread_of_long_comments_under_commenter_links_goes() {
    let mut page = article();
    let authors = [
        "http://twitter.com/annlee Ann Lee",
        "Bob Marsh",
        "http://example.org/ Carla Moss",
        "Dev",
        "http://blog.example.net Eve Stone",
    ];
    let bodies: Vec<String> = (1..=15).map(paragraph).collect();
    for (author, comment) in authors.iter().zip(bodies.chunks(3)) {
        page.push_str(author);
        page.push_str("\n\n");
        for line in comment {
            page.push_str(line);
            page.push_str("\n\n");
        }
    }
    let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_the_thread_goes(&page, &bodies);
}
